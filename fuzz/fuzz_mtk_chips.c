/*
 * Fuzz target for the MediaTek chip table (mtk_chips.c): the hardware code
 * comes from the device (GET_HW_CODE). Each pair of input bytes is a code;
 * the binary search must find exactly what a linear scan finds (a table
 * left unsorted by an edit would name the wrong chip, or none), and a name
 * found is non-empty.
 */
#include <stdint.h>
#include <stddef.h>
#include "shakedown/shakedown.h"
#include "proto/mtk_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i + 1 < size; i += 2) {
		uint16_t code = (uint16_t)(data[i] << 8 | data[i + 1]);
		const mtk_chip *found = sdi_mtk_chip(code), *scan = NULL;
		for (size_t k = 0; k < sdi_mtk_chip_count(); k++)
			if (sdi_mtk_chip_at(k)->hwcode == code) {
				scan = sdi_mtk_chip_at(k);
				break;
			}
		if (found != scan)
			__builtin_trap();
		if (found && (!found->name || !found->name[0]))
			__builtin_trap();
	}
	return 0;
}
