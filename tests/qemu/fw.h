/* fw.h - what the test firmware's parts share. */
#ifndef ONEHEAP_FW_H
#define ONEHEAP_FW_H

/* Write a string to the host's output (semihosting SYS_WRITE0). */
void fw_puts(const char *s);
/* End the run; QEMU exits with status. */
void fw_exit(int status) __attribute__((noreturn));
/* PendSV handler (fw_main.c). */
void fw_pendsv(void);

#endif
