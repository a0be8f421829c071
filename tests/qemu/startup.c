/*
 * startup.c - vector table, reset handler and system calls of the test
 * firmware: output and exit through semihosting, which QEMU
 * (-semihosting-config enable=on) services on the host.
 */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "fw.h"

extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[], __stack_top[];

int main(void);

/* ---- semihosting ------------------------------------------------------------------ */

#define SYS_WRITE0          0x04u       /* write a NUL-terminated string */
#define SYS_EXIT_EXTENDED   0x20u       /* exit with (reason, status) */
#define ADP_APPLICATION_EXIT 0x20026u   /* ADP_Stopped_ApplicationExit */

/* The semihosting call: operation in r0, argument in r1, result in r0. */
static uint32_t semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;

    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void fw_puts(const char *s)
{
    (void)semihost(SYS_WRITE0, s);
}

void fw_exit(int status)
{
    /* SYS_EXIT_EXTENDED carries the status; QEMU exits with it */
    uint32_t block[2] = {ADP_APPLICATION_EXIT, (uint32_t)status};

    for (;;)
    {
        (void)semihost(SYS_EXIT_EXTENDED, block);
    }
}

/* ---- newlib's system calls: output only ----------------------------------------------- */

int _write(int fd, const char *buf, int len);
int _read(int fd, char *buf, int len);
int _close(int fd);
int _lseek(int fd, int off, int whence);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
void _exit(int status);

int _write(int fd, const char *buf, int len)
{
    char chunk[129];
    int done = 0;

    (void)fd;   /* stdout and stderr both go to the host's output */
    while (done < len)
    {
        int n = len - done < 128 ? len - done : 128;
        memcpy(chunk, buf + done, (size_t)n);
        chunk[n] = '\0';
        fw_puts(chunk);
        done += n;
    }
    return len;
}

int _read(int fd, char *buf, int len)
{
    (void)fd;
    (void)buf;
    (void)len;
    return 0;   /* no input: end of file */
}

int _close(int fd)
{
    (void)fd;
    return -1;
}

int _lseek(int fd, int off, int whence)
{
    (void)fd;
    (void)off;
    (void)whence;
    return -1;
}

int _fstat(int fd, struct stat *st)
{
    (void)fd;
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    (void)fd;
    return 1;
}

void _exit(int status)
{
    fw_exit(status);
    for (;;)
    {
    }
}

/* ---- reset and exceptions ------------------------------------------------------------------ */

/* A fault ends the run with a distinct status instead of hanging. */
static void fw_fault(void)
{
    fw_puts("firmware: unexpected exception\nFAIL\n");
    fw_exit(3);
}

void fw_reset(void);

void fw_reset(void)
{
    uint32_t *src = __data_load;

    for (uint32_t *dst = __data_start; dst < __data_end; dst++)
    {
        *dst = *src++;
    }
    for (uint32_t *dst = __bss_start; dst < __bss_end; dst++)
    {
        *dst = 0;
    }
    fw_exit(main());
}

typedef void (*fw_vector_t)(void);

/* ARMv6-M/v7-M/v8-M vector table: initial stack pointer, then handlers. */
__attribute__((section(".vectors"), used)) static const fw_vector_t fw_vectors[16] = {
    (fw_vector_t)(uintptr_t)__stack_top,
    fw_reset,
    fw_fault,       /* NMI */
    fw_fault,       /* HardFault */
    fw_fault,       /* MemManage */
    fw_fault,       /* BusFault */
    fw_fault,       /* UsageFault */
    0, 0, 0, 0,
    fw_fault,       /* SVCall */
    fw_fault,       /* DebugMonitor */
    0,
    fw_pendsv,      /* PendSV: the firmware's "call the heap from an interrupt" test */
    fw_fault,       /* SysTick */
};
