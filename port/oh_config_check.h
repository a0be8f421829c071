/*
 * oh_config_check.h - configurations that cannot work, refused at compile
 * time with a message that names the fix. Included by port.h, after the
 * configuration (oh_config.h), so every library source sees it; it applies
 * to a generated oneos_config.h and to a hand-written one alike. (oh_config.h
 * already refuses a build without any algorithm, a bad OS_MEM_ALIGN_SIZE and
 * a bad OS_MEM_FF_SL_BITS.)
 */
#ifndef ONEHEAP_OH_CONFIG_CHECK_H
#define ONEHEAP_OH_CONFIG_CHECK_H

/* ---- what is built ------------------------------------------------------------ */

#ifndef OS_USING_MEM_HEAP
#error "oneheap: OS_USING_MEM_HEAP is not set, but oneheap is the memory heap: every heap, the system heap included, is a user heap; enable it"
#endif

#if defined(OS_USING_MP_CHECK_TAG) && !defined(OS_USING_MEM_POOL)
#error "oneheap: OS_USING_MP_CHECK_TAG (pool check tag) needs OS_USING_MEM_POOL; enable memory pools or drop the check tag"
#endif

#if OS_NAME_MAX < 0
#error "oneheap: OS_NAME_MAX (characters kept of a heap's or pool's name) must be 0 or more"
#endif

/* Hardening levels: 0 off; 1 header canary; 2 + tail canary; 3 + freed blocks filled and verified. */
#if OS_MEM_HARDENING < 0 || OS_MEM_HARDENING > 3
#error "oneheap: OS_MEM_HARDENING must be 0 (off), 1 (header canary), 2 (tail canary) or 3 (full)"
#endif

/* ---- exactly one port, and one that fits the target ---------------------------- */

#if defined(OS_MEM_PORT_POSIX) && (defined(OS_MEM_PORT_BAREMETAL) || defined(OS_MEM_PORT_CORTEXM))
#error "oneheap: more than one port selected; define exactly one of OS_MEM_PORT_POSIX, OS_MEM_PORT_BAREMETAL, OS_MEM_PORT_CORTEXM"
#endif

#if defined(OS_MEM_PORT_POSIX) && !defined(__unix__) && !defined(__APPLE__)
#error "oneheap: the POSIX port needs a POSIX system (pthreads), and this target has none; select the bare-metal port (OS_MEM_PORT_BAREMETAL) or, on Cortex-M, OS_MEM_PORT_CORTEXM"
#endif

#if defined(OS_MEM_PORT_CORTEXM) && !(defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M')
#error "oneheap: OS_MEM_PORT_CORTEXM needs a Cortex-M (ARMv6-M, ARMv7-M or ARMv8-M) target; this compiler targets something else: select OS_MEM_PORT_BAREMETAL or OS_MEM_PORT_POSIX"
#endif

#if defined(OS_MEM_PORT_NO_LOCK) && defined(OS_MEM_PORT_POSIX)
#error "oneheap: OS_MEM_PORT_NO_LOCK is for single-threaded bare-metal systems; the POSIX port always locks"
#endif

#endif /* ONEHEAP_OH_CONFIG_CHECK_H */
