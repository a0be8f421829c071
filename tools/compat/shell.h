/*
 * shell.h - OneOS-style shell command registration for the host shell.
 *
 *   SH_CMD_EXPORT(name, function, "description");
 *
 * function is either void f(void) or os_err_t f(os_int32_t argc, char **argv).
 * A command file only has to be linked into the shell to add its commands.
 */
#ifndef SHELL_H
#define SHELL_H

#include <os_types.h>

typedef void (*sh_fn_void_t)(void);
typedef os_err_t (*sh_fn_args_t)(os_int32_t argc, char **argv);

struct sh_cmd
{
    const char    *name;
    const char    *desc;
    sh_fn_void_t   fn_void;
    sh_fn_args_t   fn_args;
    struct sh_cmd *next;
};

void sh_register(struct sh_cmd *cmd);

#define SH_CMD_EXPORT(cmd, func, desc)                                                        \
    static struct sh_cmd sh_cmd_##cmd = {                                                      \
        #cmd, desc,                                                                            \
        _Generic(&(func), sh_fn_void_t: (sh_fn_void_t)(&(func)), default: (sh_fn_void_t)0),   \
        _Generic(&(func), sh_fn_args_t: (sh_fn_args_t)(&(func)), default: (sh_fn_args_t)0),   \
        0 };                                                                                   \
    __attribute__((constructor)) static void sh_cmd_register_##cmd(void)                      \
    {                                                                                          \
        sh_register(&sh_cmd_##cmd);                                                            \
    }                                                                                          \
    _Static_assert(1, #cmd)     /* the caller's ';' ends this declaration */

#endif
