/*
 * STM32 system-memory USART bootloader: wire facts only, shared by the
 * client (src/proto/stm32.c) and the simulator (src/sim/stm32_sim.c).
 * Sources: ST AN3155 "USART protocol used in the STM32 bootloader" (frames,
 * commands, ACK/NACK), ST AN2606 "STM32 microcontroller system memory boot
 * mode" (entry, autobaud, product IDs); stm32flash 0.7 (stm32.c, dev_table.c)
 * for the behaviour of the reference host. See shared/protocols/avr-stm32.md
 * section 2 and docs/protocols/stm32.md.
 */
#ifndef SD_STM32_WIRE_H
#define SD_STM32_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define STM32_INIT   0x7F /* activation byte: the loader measures the baud rate on it */
#define STM32_ACK    0x79
#define STM32_NACK   0x1F
#define STM32_BUSY   0x76 /* no-stretch (I2C) commands */

/* Commands: opcode then its complement (opcode ^ 0xFF) (AN3155 sec. 2) */
#define STM32_CMD_GET            0x00
#define STM32_CMD_GET_VERSION    0x01
#define STM32_CMD_GET_ID         0x02
#define STM32_CMD_READ_MEMORY    0x11
#define STM32_CMD_GO             0x21
#define STM32_CMD_WRITE_MEMORY   0x31
#define STM32_CMD_ERASE          0x43 /* bootloader < v3.0 */
#define STM32_CMD_EXT_ERASE      0x44 /* bootloader >= v3.0 */
#define STM32_CMD_WRITE_PROTECT  0x63
#define STM32_CMD_WRITE_UNPROT   0x73
#define STM32_CMD_READOUT_PROT   0x82
#define STM32_CMD_READOUT_UNPROT 0x92
#define STM32_CMD_GET_CHECKSUM   0xA1 /* newer loaders only */

/* Erase: the global / mass erase codes (AN3155 sec. 3.7, 3.8) */
#define STM32_ERASE_GLOBAL       0xFF   /* 0x43: FF 00 */
#define STM32_EXT_ERASE_MASS     0xFFFF /* 0x44: FF FF 00 */
#define STM32_EXT_ERASE_BANK1    0xFFFE /* 0x44: FF FE 01 */
#define STM32_EXT_ERASE_BANK2    0xFFFD /* 0x44: FF FD 02 */

/* Frame limits (AN3155) */
#define STM32_MAX_BLOCK   256u  /* Read/Write Memory: at most 256 bytes */
#define STM32_GET_MAX     64u   /* Get: N+1 bytes follow; real loaders list < 20 */

/* Memory map of the parts modelled (AN2606, RM0008 for F1) */
#define STM32_FLASH_BASE  0x08000000u
#define STM32_SRAM_BASE   0x20000000u

/* Timeouts, one block (host side). The loader answers 0x7F within a frame
 * time; USB-UART latency adds up to ~16 ms (FTDI latency timer). stm32flash
 * waits 0.5 s per read; we wait less for the 0x7F answer so that silence is
 * diagnosed within the 1.5 s the issue asks, and as long as it for the
 * identification commands. */
#define STM32_T_INIT_ACK   SD_MS(550)  /* answer to 0x7F: its first byte (two of these
					   still name silence within 1.5 s; longer than
					   stm32flash's 0.5 s, so a slow link that still
					   works for it is not sent a second 0x7F) */
#define STM32_T_INIT_WINDOW SD_MS(900) /* answer to 0x7F: all of it (junk first) */
#define STM32_T_ACK        SD_MS(500)  /* ACK of a command or of its arguments */
#define STM32_T_REPLY      SD_MS(500)  /* next byte of a reply */
#define STM32_T_REPLY_MAX  SD_MS(1500) /* a whole reply (256 bytes at 2400 baud ~1.1 s) */
#define STM32_T_DRAIN_MAX  SD_MS(500)  /* discarding a garbled reply, at most */
#define STM32_T_EVIDENCE   SD_MS(150)  /* more of what came instead of a loader */
#define STM32_T_SETTLE     SD_MS(50)   /* after a reset, before 0x7F (AN2606 start-up) */
#define STM32_T_QUIET      SD_MS(30)   /* line quiet: the device has finished talking */
#define STM32_T_BUDGET     SD_S(10)    /* a whole session, by default */
#define STM32_INIT_JUNK    8192u       /* junk tolerated before the ACK to 0x7F */
#define STM32_ATTEMPTS     2u          /* entry attempts by default (1 retry) */
#define STM32_CMD_TRIES    4u          /* tries of one read-only command on a bad reply */
#define STM32_AGREE_TRIES  8u          /* Get / Get Version / Get ID asked until answers agree */
#define STM32_READ_TRIES   6u          /* Read Memory of the first block, until it agrees */
#define STM32_SEG          32u         /* the unit of agreement inside a Read (bytes) */
/* Latency (issue 11): per-reply deadlines grow with the round trip measured
 * at sync, up to this one (AN3155 sets no host timeout for the read-only
 * commands; a second beyond the 0.5 s stm32flash allows is generous). */
#define STM32_RTT_MAX      SD_MS(1000)
#define STM32_RTT_SLOW     SD_MS(500)  /* stm32flash 0.7 waits 0.5 s per read (VTIME 5) */
#define STM32_RTT_CLOSE    SD_MS(250)  /* half of it: a USB hub or VM more and it fails */

/* The complement byte of an opcode or one-byte parameter. */
static inline uint8_t stm32_comp(uint8_t b)
{
	return (uint8_t)(b ^ 0xFFu);
}

/* XOR of a run of bytes: the checksum of addresses and data blocks. */
static inline uint8_t stm32_xor(const uint8_t *b, size_t n)
{
	uint8_t x = 0;
	for (size_t i = 0; i < n; i++)
		x ^= b[i];
	return x;
}

/* Address frame: 4 bytes MSB first, then their XOR. out: 5 bytes. */
static inline void stm32_addr_frame(uint32_t addr, uint8_t out[5])
{
	out[0] = (uint8_t)(addr >> 24);
	out[1] = (uint8_t)(addr >> 16);
	out[2] = (uint8_t)(addr >> 8);
	out[3] = (uint8_t)addr;
	out[4] = stm32_xor(out, 4);
}

/* Is this opcode one that changes the device (flash, option bytes, or where
 * it runs)? The read-only rule of probe/sync/info forbids all of them. */
static inline int stm32_cmd_destructive(uint8_t op)
{
	switch (op) {
	case STM32_CMD_GO: case STM32_CMD_WRITE_MEMORY: case STM32_CMD_ERASE:
	case STM32_CMD_EXT_ERASE: case STM32_CMD_WRITE_PROTECT: case STM32_CMD_WRITE_UNPROT:
	case STM32_CMD_READOUT_PROT: case STM32_CMD_READOUT_UNPROT: case 0x32: /* no-stretch write */
	case 0x45: case 0x64: case 0x74: case 0x83: case 0x93: /* no-stretch variants */
		return 1;
	default:
		return 0;
	}
}

/* Product IDs (Get ID) to family names: AN2606 table "bootloader device-
 * dependent parameters" and stm32flash dev_table.c. The PID names a die, so
 * clones (GD32, CKS32) that report 0x410 are named as the ST part. */
typedef struct stm32_part {
	uint16_t    pid;
	const char *name;
} stm32_part;

/* The family name of a PID, or NULL. */
static inline const char *stm32_part_name(uint16_t pid)
{
	static const stm32_part parts[] = {
	{ 0x440, "STM32F030x8/F05x" },
	{ 0x442, "STM32F030xC/F09x" },
	{ 0x444, "STM32F03x" },
	{ 0x445, "STM32F04x/F070x6" },
	{ 0x448, "STM32F070xB/F071/F072" },
	{ 0x412, "STM32F1 low-density" },
	{ 0x410, "STM32F1 medium-density" },
	{ 0x414, "STM32F1 high-density" },
	{ 0x430, "STM32F1 XL-density" },
	{ 0x418, "STM32F1 connectivity line (F105/F107)" },
	{ 0x420, "STM32F1 medium-density value line" },
	{ 0x428, "STM32F1 high-density value line" },
	{ 0x411, "STM32F2" },
	{ 0x432, "STM32F37x" },
	{ 0x422, "STM32F302xB/C/F303xB/C" },
	{ 0x438, "STM32F303x4/6/8/F334/F328" },
	{ 0x439, "STM32F301/F302x4/6/8" },
	{ 0x446, "STM32F302xD/E/F303xD/E/F398" },
	{ 0x413, "STM32F405/F407/F415/F417" },
	{ 0x419, "STM32F42x/F43x" },
	{ 0x423, "STM32F401xB/C" },
	{ 0x433, "STM32F401xD/E" },
	{ 0x458, "STM32F410" },
	{ 0x431, "STM32F411" },
	{ 0x441, "STM32F412" },
	{ 0x463, "STM32F413/F423" },
	{ 0x421, "STM32F446" },
	{ 0x434, "STM32F469/F479" },
	{ 0x449, "STM32F74x/F75x" },
	{ 0x451, "STM32F76x/F77x" },
	{ 0x452, "STM32F72x/F73x" },
	{ 0x466, "STM32G03x/G04x" },
	{ 0x456, "STM32G05x/G06x" },
	{ 0x460, "STM32G07x/G08x" },
	{ 0x467, "STM32G0Bx/G0Cx" },
	{ 0x468, "STM32G431/G441" },
	{ 0x469, "STM32G47x/G48x" },
	{ 0x479, "STM32G491/G4A1" },
	{ 0x450, "STM32H74x/H75x" },
	{ 0x480, "STM32H7A3/H7B0/H7B3" },
	{ 0x483, "STM32H72x/H73x" },
	{ 0x457, "STM32L01x/L02x" },
	{ 0x425, "STM32L03x/L04x" },
	{ 0x417, "STM32L05x/L06x" },
	{ 0x447, "STM32L07x/L08x" },
	{ 0x416, "STM32L1 medium-density" },
	{ 0x429, "STM32L1 medium-density (cat. 2)" },
	{ 0x427, "STM32L1 medium-density plus" },
	{ 0x436, "STM32L1 high-density" },
	{ 0x437, "STM32L152RE/L1 cat. 5" },
	{ 0x464, "STM32L41x/L42x" },
	{ 0x435, "STM32L43x/L44x" },
	{ 0x462, "STM32L45x/L46x" },
	{ 0x415, "STM32L47x/L48x" },
	{ 0x461, "STM32L496/L4A6" },
	{ 0x470, "STM32L4Rx/L4Sx" },
	{ 0x471, "STM32L4P5/L4Q5" },
	{ 0x472, "STM32L552/L562" },
	{ 0x482, "STM32U575/U585" },
	{ 0x481, "STM32U59x/U5Ax" },
	{ 0x494, "STM32WB1x" },
	{ 0x495, "STM32WB35/WB55" },
	{ 0x497, "STM32WLE5/WL55" },
	};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (parts[i].pid == pid)
			return parts[i].name;
	return NULL;
}

#endif
