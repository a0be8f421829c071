/*
 * os_types.h - basic OneOS types used by the memory-heap API.
 *
 * Fixed-width integers, the size type, the error type and the intrusive
 * doubly linked list node that every kernel object embeds.
 */
#ifndef OS_TYPES_H
#define OS_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef int8_t    os_int8_t;
typedef int16_t   os_int16_t;
typedef int32_t   os_int32_t;
typedef int64_t   os_int64_t;
typedef uint8_t   os_uint8_t;
typedef uint16_t  os_uint16_t;
typedef uint32_t  os_uint32_t;
typedef uint64_t  os_uint64_t;

typedef intptr_t  os_base_t;    /* signed machine word */
typedef uintptr_t os_ubase_t;   /* unsigned machine word */
typedef size_t    os_size_t;
typedef os_base_t os_err_t;     /* one of the OS_E* codes of os_errno.h */
typedef os_int32_t os_tick_t;

typedef int       os_bool_t;
#define OS_TRUE   1
#define OS_FALSE  0

#define OS_NULL   ((void *)0)

#define OS_SIZE_MAX SIZE_MAX

/* Intrusive list node; an empty list is a head whose next and prev point at itself. */
struct os_list_node
{
    struct os_list_node *next;
    struct os_list_node *prev;
};
typedef struct os_list_node os_list_node_t;

#endif /* OS_TYPES_H */
