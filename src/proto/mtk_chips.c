/*
 * shakedown — MediaTek hardware codes (GET_HW_CODE) and the names users
 * know. Facts, not code: codes and part names are those of mtkclient's
 * chip configuration (bkerler/mtkclient, mtkclient/config/brom_config.py,
 * `hwconfig`, names and descriptions), the marketing names in parentheses
 * from the same file's descriptions and comments; 0x0707, 0x0959 and 0x0989
 * are also confirmed by users' logs (shared/protocols/mtk.md).
 * MTK_CHIP_PATCHED marks the chips whose BROM is patched and which use the
 * V6 (XML) download agent: mtkclient's README lists MT6781, MT6789, MT6855,
 * MT6886, MT6895, MT6983; the others carry damode=XML in brom_config.py.
 * Sorted by code (looked up by binary search).
 */
#include "internal.h"
#include "mtk_wire.h"

#define P MTK_CHIP_PATCHED

static const mtk_chip chips[] = {
	{ 0x0279, 0, "MT6797/MT6767 (Helio X23/X25/X27)" },
	{ 0x0321, 0, "MT6735/MT6735T/MT8735A" },
	{ 0x0326, 0, "MT6755/MT6750M/T/S (Helio P10/P15/P18)" },
	{ 0x0335, 0, "MT6737M/MT6735G" },
	{ 0x0337, 0, "MT6753" },
	{ 0x0507, 0, "MT6759 (Helio P30)" },
	{ 0x0551, 0, "MT6757/MT6757D (Helio P20)" },
	{ 0x0562, 0, "MT6799 (Helio X30/X35)" },
	{ 0x0571, 0, "MT0571" },
	{ 0x0598, 0, "MT0598 (Elbrus)" },
	{ 0x0601, 0, "MT6750" },
	{ 0x0633, 0, "MT6570/MT8321" },
	{ 0x0688, 0, "MT6758 (Helio P30)" },
	{ 0x0690, 0, "MT6763 (Helio P23)" },
	{ 0x0699, 0, "MT6739/MT6731/MT8765" },
	{ 0x0707, 0, "MT6768/MT6769 (Helio P65/G85)" },
	{ 0x0717, 0, "MT6761/MT6762/MT3369/MT8766B/MT8761 (Helio A20/P22/A22/A25/G25)" },
	{ 0x0725, 0, "MT6779 (Helio P90)" },
	{ 0x0766, 0, "MT6765/MT8768t (Helio P35/G35)" },
	{ 0x0788, 0, "MT6771/MT8385/MT8183/MT8666 (Helio P60/P70/G80)" },
	{ 0x0813, 0, "MT6785 (Helio G90)" },
	{ 0x0816, 0, "MT6885/MT6883/MT6889/MT6880/MT6890 (Dimensity 1000L/1000)" },
	{ 0x0886, 0, "MT6873 (Dimensity 800/820)" },
	{ 0x0907, P, "MT6983 (Dimensity 9000/9000+)" },
	{ 0x0908, 0, "MT8696" },
	{ 0x0930, 0, "MT8195 (Chromebook)" },
	{ 0x0950, 0, "MT6891/MT6893 (Dimensity 1200)" },
	{ 0x0959, 0, "MT6877 (Dimensity 900/1080)" },
	{ 0x0989, 0, "MT6833 (Dimensity 700)" },
	{ 0x0992, 0, "MT6880/MT6890" },
	{ 0x0996, 0, "MT6853 (Dimensity 720)" },
	{ 0x1066, P, "MT6781 (Helio G96)" },
	{ 0x1129, P, "MT6855 (Dimensity 930/7020)" },
	{ 0x1172, P, "MT6895 (Dimensity 8100/8200)" },
	{ 0x1203, P, "MT6897 (Dimensity 8300 Ultra)" },
	{ 0x1208, P, "MT6789/MT8781V (Helio G99)" },
	{ 0x1209, P, "MT6835 (Dimensity 6100+)" },
	{ 0x1229, P, "MT6886 (Dimensity 7200 Ultra)" },
	{ 0x1236, P, "MT6989 (Dimensity 9300+)" },
	{ 0x1296, P, "MT6985 (Dimensity 9200/9200+)" },
	{ 0x1375, P, "MT6878 (Dimensity 7300)" },
	{ 0x1471, P, "MT6993 (Dimensity 9500)" },
	{ 0x2523, 0, "MT2523 (wearable)" },
	{ 0x2601, 0, "MT2601 (wearable)" },
	{ 0x2625, 0, "MT2625 (NB-IoT)" },
	{ 0x3967, 0, "MT3967" },
	{ 0x5932, 0, "MT5932 (IoT)" },
	{ 0x6225, 0, "MT6225 (feature phone)" },
	{ 0x6226, 0, "MT6226 (feature phone)" },
	{ 0x6236, 0, "MT6236 (feature phone)" },
	{ 0x6238, 0, "MT6238 (feature phone)" },
	{ 0x6253, 0, "MT6253 (feature phone)" },
	{ 0x6255, 0, "MT6255 (feature phone)" },
	{ 0x6256, 0, "MT6256 (feature phone)" },
	{ 0x625A, 0, "MT625A (feature phone)" },
	{ 0x6261, 0, "MT6261/MT2503" },
	{ 0x6268, 0, "MT6268" },
	{ 0x6270, 0, "MT6270" },
	{ 0x6276, 0, "MT6276" },
	{ 0x6280, 0, "MT6280" },
	{ 0x6291, 0, "MT6291" },
	{ 0x6516, 0, "MT6516" },
	{ 0x6571, 0, "MT6571" },
	{ 0x6572, 0, "MT6572" },
	{ 0x6573, 0, "MT6573/MT6260" },
	{ 0x6575, 0, "MT6575/MT8317" },
	{ 0x6577, 0, "MT6577" },
	{ 0x6580, 0, "MT6580" },
	{ 0x6582, 0, "MT6582/MT6574/MT8382" },
	{ 0x6583, 0, "MT6583/MT6589" },
	{ 0x6592, 0, "MT6592/MT8392" },
	{ 0x6595, 0, "MT6595" },
	{ 0x6752, 0, "MT6752" },
	{ 0x6795, 0, "MT6795 (Helio X10)" },
	{ 0x7682, 0, "MT7682 (IoT)" },
	{ 0x7686, 0, "MT7686 (IoT)" },
	{ 0x8127, 0, "MT8127/MT3367/AC8227L" },
	{ 0x8135, 0, "MT8135" },
	{ 0x8163, 0, "MT8163" },
	{ 0x8167, 0, "MT8167/MT8516/MT8362" },
	{ 0x8168, 0, "MT8168/MT6357" },
	{ 0x8172, 0, "MT8173" },
	{ 0x8176, 0, "MT8176" },
	{ 0x8512, 0, "MT8512" },
	{ 0x8518, 0, "MT8518 (voice assistant)" },
	{ 0x8590, 0, "MT8590/MT7683/MT8521/MT7623" },
	{ 0x8695, 0, "MT8695" },
};

#undef P

const mtk_chip *sdi_mtk_chip(uint16_t hwcode)
{
	size_t lo = 0, hi = SDI_ARRAY_LEN(chips);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (chips[mid].hwcode == hwcode)
			return &chips[mid];
		if (chips[mid].hwcode < hwcode)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t sdi_mtk_chip_count(void)
{
	return SDI_ARRAY_LEN(chips);
}

const mtk_chip *sdi_mtk_chip_at(size_t i)
{
	return i < SDI_ARRAY_LEN(chips) ? &chips[i] : NULL;
}
