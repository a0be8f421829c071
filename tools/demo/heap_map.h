/* heap_map.h - draw heaps as an SVG picture (see heap_map.c). */
#ifndef HEAP_MAP_H
#define HEAP_MAP_H

#include <stdio.h>
#include <os_memory.h>

/* Colours, so tests can look for them in a rendering. */
extern const char *const heap_map_owner_colors[];
extern const char heap_map_control_color[];
extern const char heap_map_waste_color[];

/* Write an SVG picture of the heaps to out. 0, or -1 on an I/O failure. */
int heap_map_write(FILE *out, os_memheap_t *const *heaps, int nheaps);

#endif
