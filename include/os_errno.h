/*
 * os_errno.h - OneOS error codes. Functions return OS_EOK on success and
 * one of the positive codes below on failure.
 */
#ifndef OS_ERRNO_H
#define OS_ERRNO_H

#define OS_EOK       0   /* no error */
#define OS_ERROR     1   /* generic error (e.g. a corrupt heap found by check) */
#define OS_ETIMEOUT  2   /* timed out */
#define OS_EFULL     3   /* resource full */
#define OS_EEMPTY    4   /* resource empty */
#define OS_ENOMEM    5   /* not enough memory */
#define OS_ENOSYS    6   /* not supported */
#define OS_EBUSY     7   /* busy */
#define OS_EIO       8   /* I/O error */
#define OS_EINTR     9   /* interrupted */
#define OS_EINVAL   10   /* invalid argument */
#define OS_EPERM    11   /* operation not permitted (e.g. called from an interrupt) */

#endif /* OS_ERRNO_H */
