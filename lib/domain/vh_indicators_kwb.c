/*
 * The codebook of CBS's "Kerncijfers wijken en buurten" (kwb): what each
 * variable name of the kwb files means, as CBS's own description of the
 * variables ("Toelichting variabelen kwb") labels it, with its unit and
 * how a figure of the variable adds up over areas. The kwb files carry
 * only the short names (a_00_14, p_koopw); without this table a dossier
 * would show those. The table also covers the population column of the
 * CBS 85984NED extract, which uses the same layout.
 *
 * How a variable adds up: counts (a_*) are summed from buurten; a rate
 * whose numerator and denominator are themselves kwb counts is divided
 * anew (p_geb = a_geb / a_inw x 1000); averages, shares without a known
 * base and distances are not aggregated at all.
 */
#include <stddef.h>
#include <string.h>

#include "vh_indicators.h"

#define SUM(c, t, u)		{ c, t, u, "sum", NULL, NULL, NULL }
#define NONE(c, t, u)		{ c, t, u, "none", NULL, NULL, NULL }
#define RATIO(c, t, u, n, d, s)	{ c, t, u, "ratio", n, d, s }

static const struct vh_ind_label kwb[] = {
	SUM("a_inw", "Inwoners", "aantal"),
	SUM("population", "Inwoners", "aantal"),
	SUM("a_man", "Mannen", "aantal"),
	SUM("a_vrouw", "Vrouwen", "aantal"),
	SUM("a_00_14", "Personen 0 tot 15 jaar", "aantal"),
	SUM("a_15_24", "Personen 15 tot 25 jaar", "aantal"),
	SUM("a_25_44", "Personen 25 tot 45 jaar", "aantal"),
	SUM("a_45_64", "Personen 45 tot 65 jaar", "aantal"),
	SUM("a_65_oo", "Personen 65 jaar en ouder", "aantal"),
	SUM("a_ongeh", "Burgerlijke staat: ongehuwd", "aantal"),
	SUM("a_gehuwd", "Burgerlijke staat: gehuwd", "aantal"),
	SUM("a_gesch", "Burgerlijke staat: gescheiden", "aantal"),
	SUM("a_verwed", "Burgerlijke staat: verweduwd", "aantal"),
	SUM("a_nl_all", "Herkomstland Nederland", "aantal"),
	SUM("a_eur_al", "Herkomstland Europa (exclusief Nederland)",
	    "aantal"),
	SUM("a_neu_al", "Herkomstland buiten Europa", "aantal"),
	SUM("a_geb_nl", "Geboren in Nederland met een Nederlandse herkomst",
	    "aantal"),
	SUM("a_geb_eu", "Geboren in Nederland met een Europese herkomst "
	    "(exclusief Nederland)", "aantal"),
	SUM("a_geb_ne", "Geboren in Nederland met een herkomst buiten Europa",
	    "aantal"),
	SUM("a_gbl_eu", "Geboren buiten Nederland met een Europese herkomst "
	    "(exclusief Nederland)", "aantal"),
	SUM("a_gbl_ne", "Geboren buiten Nederland met een herkomst buiten "
	    "Europa", "aantal"),
	SUM("a_geb", "Geboorte totaal", "aantal"),
	RATIO("p_geb", "Geboorte relatief", "per 1 000 inwoners", "a_geb",
	    "a_inw", "1000"),
	SUM("a_ste", "Sterfte totaal", "aantal"),
	RATIO("p_ste", "Sterfte relatief", "per 1 000 inwoners", "a_ste",
	    "a_inw", "1000"),
	SUM("a_hh", "Huishoudens totaal", "aantal"),
	SUM("a_1p_hh", "Eenpersoonshuishoudens", "aantal"),
	SUM("a_hh_z_k", "Huishoudens zonder kinderen", "aantal"),
	SUM("a_hh_m_k", "Huishoudens met kinderen", "aantal"),
	NONE("g_hhgro", "Gemiddelde huishoudensgrootte (personen)", NULL),
	RATIO("bev_dich", "Bevolkingsdichtheid", "inwoners per km²", "a_inw",
	    "a_lan_ha", "100"),
	SUM("a_woning", "Woningvoorraad", "aantal"),
	NONE("g_wozbag", "Gemiddelde WOZ-waarde van woningen",
	    "x 1 000 euro"),
	NONE("p_1gezw", "Eengezinswoning", "%"),
	NONE("p_mgezw", "Meergezinswoning", "%"),
	NONE("p_bewndw", "Woningen bewoond", "%"),
	NONE("p_leegsw", "Woningen onbewoond", "%"),
	NONE("p_koopw", "Koopwoningen", "%"),
	NONE("p_huurw", "Huurwoningen totaal", "%"),
	NONE("p_wcorpw", "Huurwoningen in bezit van woningcorporaties", "%"),
	NONE("p_ov_hw", "Huurwoningen in bezit van overige verhuurders", "%"),
	NONE("p_e_o_w", "Woningen met eigendom onbekend", "%"),
	NONE("p_bjj2k", "Bouwjaar woningen voor 2000", "%"),
	NONE("p_bjo2k", "Bouwjaar woningen vanaf 2000", "%"),
	NONE("g_ele", "Gemiddeld elektriciteitsverbruik totaal", "kWh"),
	NONE("g_ele_ap", "Gemiddeld elektriciteitsverbruik appartement",
	    "kWh"),
	NONE("g_ele_tw", "Gemiddeld elektriciteitsverbruik tussenwoning",
	    "kWh"),
	NONE("g_ele_hw", "Gemiddeld elektriciteitsverbruik hoekwoning", "kWh"),
	NONE("g_ele_2w", "Gemiddeld elektriciteitsverbruik "
	    "twee-onder-een-kapwoning", "kWh"),
	NONE("g_ele_vw", "Gemiddeld elektriciteitsverbruik vrijstaande "
	    "woning", "kWh"),
	NONE("g_ele_hu", "Gemiddeld elektriciteitsverbruik huurwoning", "kWh"),
	NONE("g_ele_ko", "Gemiddeld elektriciteitsverbruik eigen woning",
	    "kWh"),
	NONE("g_gas", "Gemiddeld aardgasverbruik totaal", "m³"),
	NONE("g_gas_ap", "Gemiddeld aardgasverbruik appartement", "m³"),
	NONE("g_gas_tw", "Gemiddeld aardgasverbruik tussenwoning", "m³"),
	NONE("g_gas_hw", "Gemiddeld aardgasverbruik hoekwoning", "m³"),
	NONE("g_gas_2w", "Gemiddeld aardgasverbruik twee-onder-een-kapwoning",
	    "m³"),
	NONE("g_gas_vw", "Gemiddeld aardgasverbruik vrijstaande woning", "m³"),
	NONE("g_gas_hu", "Gemiddeld aardgasverbruik huurwoning", "m³"),
	NONE("g_gas_ko", "Gemiddeld aardgasverbruik eigen woning", "m³"),
	NONE("p_stadsv", "Woningen met stadsverwarming", "%"),
	SUM("a_opl_lg", "Opleidingsniveau laag", "aantal"),
	SUM("a_opl_md", "Opleidingsniveau middelbaar", "aantal"),
	SUM("a_opl_hg", "Opleidingsniveau hoog", "aantal"),
	NONE("p_arb_pp", "Nettoarbeidsparticipatie", "%"),
	NONE("p_arb_wn", "Werknemers (van de werkzame beroepsbevolking)",
	    "%"),
	NONE("p_arb_zs", "Zelfstandigen (van de werkzame beroepsbevolking)",
	    "%"),
	SUM("a_inkont", "Inkomensontvangers", "aantal"),
	NONE("g_ink_po", "Gemiddeld inkomen per inkomensontvanger",
	    "x 1 000 euro"),
	NONE("g_ink_pi", "Gemiddeld inkomen per inwoner", "x 1 000 euro"),
	NONE("p_ink_li", "Personen in de 40% met de laagste inkomens", "%"),
	NONE("p_ink_hi", "Personen in de 20% met de hoogste inkomens", "%"),
	NONE("g_hh_sti", "Gemiddeld gestandaardiseerd inkomen van "
	    "huishoudens", "x 1 000 euro"),
	NONE("p_hh_li", "Huishoudens in de 40% met de laagste inkomens", "%"),
	NONE("p_hh_hi", "Huishoudens in de 20% met de hoogste inkomens", "%"),
	NONE("p_hh_lkk", "Huishoudens met een laag inkomen", "%"),
	NONE("p_hh_osm", "Huishoudens onder of rond het sociaal minimum", "%"),
	NONE("p_hh_110", "Huishoudens tot 110% van het sociaal minimum", "%"),
	NONE("p_hh_120", "Huishoudens tot 120% van het sociaal minimum", "%"),
	NONE("m_hh_ver", "Mediaan vermogen van particuliere huishoudens",
	    "x 1 000 euro"),
	SUM("a_soz_wb", "Personen met een bijstandsuitkering", "aantal"),
	SUM("a_soz_ao", "Personen met een arbeidsongeschiktheidsuitkering",
	    "aantal"),
	SUM("a_soz_ww", "Personen met een WW-uitkering", "aantal"),
	SUM("a_soz_ow", "Personen met een AOW-uitkering", "aantal"),
	SUM("a_jz_tn", "Jongeren met jeugdzorg in natura", "aantal"),
	NONE("p_jz_tn", "Jongeren met jeugdzorg in natura (van alle "
	    "jongeren)", "%"),
	SUM("a_wmo_t", "Wmo-cliënten", "aantal"),
	RATIO("p_wmo_t", "Wmo-cliënten relatief", "per 1 000 inwoners",
	    "a_wmo_t", "a_inw", "1000"),
	SUM("a_bedv", "Bedrijfsvestigingen totaal", "aantal"),
	SUM("a_bed_a", "Bedrijfsvestigingen: landbouw, bosbouw en visserij "
	    "(A)", "aantal"),
	SUM("a_bed_bf", "Bedrijfsvestigingen: nijverheid en energie (B-F)",
	    "aantal"),
	SUM("a_bed_gi", "Bedrijfsvestigingen: handel en horeca (G+I)",
	    "aantal"),
	SUM("a_bed_hj", "Bedrijfsvestigingen: vervoer, informatie en "
	    "communicatie (H+J)", "aantal"),
	SUM("a_bed_kl", "Bedrijfsvestigingen: financiële diensten, "
	    "onroerend goed (K-L)", "aantal"),
	SUM("a_bed_mn", "Bedrijfsvestigingen: zakelijke dienstverlening "
	    "(M-N)", "aantal"),
	SUM("a_bed_oq", "Bedrijfsvestigingen: overheid, onderwijs en zorg "
	    "(O-Q)", "aantal"),
	SUM("a_bed_ru", "Bedrijfsvestigingen: cultuur, recreatie, overige "
	    "diensten (R-U)", "aantal"),
	SUM("a_pau", "Personenauto's totaal", "aantal"),
	SUM("a_bst_b", "Personenauto's op benzine", "aantal"),
	SUM("a_bst_nb", "Personenauto's op overige brandstof", "aantal"),
	RATIO("g_pau_hh", "Personenauto's per huishouden", "per huishouden",
	    "a_pau", "a_hh", "1"),
	RATIO("g_pau_km", "Personenauto's naar oppervlakte", "per km²",
	    "a_pau", "a_lan_ha", "100"),
	SUM("a_m2w", "Motortweewielers", "aantal"),
	NONE("g_afs_hp", "Afstand tot huisartsenpraktijk", "km"),
	NONE("g_afs_gs", "Afstand tot grote supermarkt", "km"),
	NONE("g_afs_kv", "Afstand tot kinderdagverblijf", "km"),
	NONE("g_afs_sc", "Afstand tot school", "km"),
	NONE("g_3km_sc", "Scholen binnen 3 km", "aantal"),
	SUM("a_opp_ha", "Oppervlakte totaal", "ha"),
	SUM("a_lan_ha", "Oppervlakte land", "ha"),
	SUM("a_wat_ha", "Oppervlakte water", "ha"),
	NONE("pst_mvp", "Meest voorkomende postcode", "postcode"),
	NONE("pst_dekp", "Dekkingspercentage van de meest voorkomende "
	    "postcode", "code"),
	NONE("ste_mvs", "Mate van stedelijkheid", "code (1 zeer sterk tot "
	    "5 niet stedelijk)"),
	NONE("ste_oad", "Omgevingsadressendichtheid", "adressen per km²"),
};

const struct vh_ind_label *
vh_ind_kwb_label(const char *code)
{
	for (size_t i = 0; i < sizeof kwb / sizeof kwb[0]; i++)
		if (strcmp(kwb[i].code, code) == 0)
			return (&kwb[i]);
	return (NULL);
}
