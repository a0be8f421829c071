/*
 * dlog.h - the subset of OneOS's dlog used by sample code, for the host:
 * LOG_E/W/I/D(tag, fmt, ...) print "L/TAG: message" on one line.
 */
#ifndef DLOG_H
#define DLOG_H

void dlog_output(char level, const char *tag, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define LOG_E(tag, ...) dlog_output('E', tag, __VA_ARGS__)
#define LOG_W(tag, ...) dlog_output('W', tag, __VA_ARGS__)
#define LOG_I(tag, ...) dlog_output('I', tag, __VA_ARGS__)
#define LOG_D(tag, ...) dlog_output('D', tag, __VA_ARGS__)

#endif
