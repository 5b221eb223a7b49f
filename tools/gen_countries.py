#!/usr/bin/env python3
"""Regenerates crates/nansen-codes/data/countries.tsv, the country code list with every alias
the publishers use. Run by a developer (pip install pycountry), never at build or run time.

Sources: ISO 3166-1 and its translations in the six UN languages (pycountry, LGPL data from
Debian's iso-codes), UNHCR's countries.csv (CC BY 4.0), Eurostat's legacy labels (below).
Usage: gen_countries.py ../shared/data/unhcr/countries.csv > crates/nansen-codes/data/countries.tsv
"""
import csv, gettext, sys
import pycountry

LANGS = ["fr", "es", "ru", "ar", "zh_CN"]
trans = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[l]) for l in LANGS]

# Eurostat writes these two-letter codes where ISO differs.
EUROSTAT_CODE = {"GRC": "EL", "GBR": "UK"}
# Labels printed by Eurostat and UNHCR that are neither ISO names nor their translations.
EXTRA = {
    "CPV": ["Cape Verde"], "CHN": ["China (including Hong Kong)", "CN_X_HK"],
    "COK": ["Cook Islands (NZ)"], "CZE": ["Czech Republic"], "CIV": ["Cote d'Ivoire", "Ivory Coast"],
    "COD": ["Democratic Republic of the Congo", "DR Congo", "Congo, Democratic Republic of the"],
    "COG": ["Congo", "Congo, Republic of"], "FSM": ["Federated States of Micronesia", "Micronesia"],
    "MKD": ["Former Yugoslav Republic of Macedonia, the", "North Macedonia", "FYR Macedonia", "Macedonia"],
    "GMB": ["Gambia, The", "Gambia"], "DEU": ["Germany (until 1990 former territory of the FRG)"], 
    "MDA": ["Moldova"], "MMR": ["Myanmar/Burma", "Burma"], "NCL": ["New Caledonia (FR)"],
    "PRK": ["North Korea"], "KOR": ["South Korea"], "PSE": ["Palestine", "State of Palestine"],
    "RUS": ["Russia"], "STP": ["Sao Tome and Principe", "São Tomé and Príncipe"], "SWZ": ["Swaziland", "Eswatini"],
    "SYR": ["Syria"], "TWN": ["Taiwan"], "TZA": ["Tanzania"], "TUR": ["Turkey", "Türkiye"],
    "USA": ["United States", "USA"], "VAT": ["Vatican City State", "Vatican", "Holy See"],
    "VNM": ["Vietnam", "Viet Nam"], "GBR": ["United Kingdom", "UK"],
    "BRN": ["Brunei"], "SRB": ["Serbia", "Serbia and Kosovo (S/RES/1244 (1999))"],
    "ESH": ["Western Sahara"], "KGZ": ["Kyrgyzstan"], "SVK": ["Slovakia"], "LBY": ["Libya"],
    "CAF": ["Central African Republic"], "TLS": ["Timor-Leste", "East Timor"], "BIH": ["Bosnia and Herzegovina"],
    "VIR": ["United States Virgin Islands", "US Virgin Islands"], "VGB": ["British Virgin Islands"],
    "HKG": ["Hong Kong", "China, Hong Kong Special Administrative Region", "China, Hong Kong SAR"],
    "MAC": ["Macao", "Macau", "China, Macao Special Administrative Region", "China, Macao SAR"],
    "BOL": ["Bolivia", "Bolivia (Plurinational State of)"], "IRN": ["Iran", "Iran (Islamic Republic of)"],
    "VEN": ["Venezuela", "Venezuela (Bolivarian Republic of)"], "LAO": ["Laos", "Lao People's Democratic Republic"],
}
# Names as the World Bank, the UK Home Office and UN statistical tables print them.
VARIANTS = {'KOR': ['Republic of Korea', 'Korea (South)', 'Korea, Rep.', 'Korea, South', 'South Korea (Republic of Korea)'], 'PRK': ['Korea (North)', "Korea, Dem. People's Rep.", 'Korea, North', "Dem. People's Rep. of Korea"], 'BHS': ['Bahamas, The', 'The Bahamas'], 'PSE': ['Occupied Palestinian Territories', 'Occupied Palestinian Territory', 'West Bank and Gaza', 'Palestinian Territories', 'Palestinian Territory, Occupied'], 'COD': ['Congo, Dem. Rep.', 'Congo (Democratic Republic)', 'Congo (Kinshasa)', 'Congo, DR'], 'COG': ['Congo, Rep.', 'Congo (Brazzaville)', 'Congo (Republic)'], 'IRN': ['Iran, Islamic Rep.', 'Iran (Islamic Rep. of)'], 'EGY': ['Egypt, Arab Rep.'], 'VEN': ['Venezuela, RB', 'Venezuela (Bolivarian Rep. of)'], 'YEM': ['Yemen, Rep.'], 'FSM': ['Micronesia, Fed. Sts.'], 'LAO': ['Lao PDR'], 'HKG': ['Hong Kong SAR, China'], 'MAC': ['Macao SAR, China'], 'LCA': ['St. Lucia'], 'KNA': ['St. Kitts and Nevis'], 'VCT': ['St. Vincent and the Grenadines'], 'BIH': ['Bosnia-Herzegovina'], 'GBR': ['Great Britain'], 'MKD': ['Former Yugoslav Republic of Macedonia'], 'KGZ': ['Kyrgyz Republic'], 'SVK': ['Slovak Republic'], 'GMB': ['The Gambia'], 'SYR': ['Syrian Arab Rep.'], 'CAF': ['Central African Rep.'], 'DOM': ['Dominican Rep.'], 'TZA': ['Tanzania, United Rep.'], 'MDA': ['Moldova, Rep.']}
for iso3, names in VARIANTS.items():
    EXTRA[iso3] = EXTRA.get(iso3, []) + names
# Codes outside ISO 3166-1 that the publishers use for people, not places (user-assigned X codes).
SPECIAL = [
    ("XKX", "XK", "", "Kosovo", ["Kosovo (under United Nations Security Council Resolution 1244/99)", "Kosovo*", "KOS", "RKS"]),
    ("XXA", "", "", "Stateless", ["STA", "STLS", "Stateless persons", "Apatride", "Apátrida"]),
    ("XXX", "", "", "Unknown", ["UKN", "UNK", "Not available", "Not specified", "Various", "Unknown country", "Desconocido", "Inconnu"]),
    ("TIB", "", "", "Tibetan", ["Tibetans"]),
    ("XRN", "", "", "Recognised non-citizens", ["RNC", "Recognized non-citizens"]),
    ("FXX", "FX", "249", "France (metropolitan)", ["Metropolitan France"]),
    # UNHCR and OCHA's code for the Abyei Area, claimed by Sudan and South Sudan.
    ("AB9", "", "", "Abyei Area", ["Abyei", "Abyei Area (Sudan/South Sudan)"]),
    # States that no longer exist, as older series name them (ISO 3166-3). Their old two-letter
    # and numeric codes are left out: ISO has given most of them to other countries since.
    ("ANT", "AN", "", "Netherlands Antilles", ["Netherlands Antilles (former)"]),
    ("CSK", "", "", "Czechoslovakia", ["Czechoslovakia (former)", "Czechoslovak Socialist Republic"]),
    ("DDR", "DD", "", "German Democratic Republic", ["East Germany", "German Democratic Republic (former)"]),
    ("SCG", "", "", "Serbia and Montenegro", ["Serbia and Montenegro (former)", "Serbia and Montenegro (2004-2006)"]),
    ("SUN", "SU", "", "Soviet Union", ["USSR", "USSR (former)", "Union of Soviet Socialist Republics"]),
    ("YUG", "YU", "", "Yugoslavia", ["Yugoslavia (former)", "Socialist Federal Republic of Yugoslavia", "Federal Republic of Yugoslavia"]),
    ("ZAR", "ZR", "", "Zaire", ["Zaire (former)", "Republic of Zaire"]),
]

unhcr = {}
for row in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    unhcr.setdefault(row["iso_code"], []).append((row["unhcr_code"], row["name"]))

def clean(xs):
    seen, out = set(), []
    for x in xs:
        x = (x or "").strip()
        if x and x.lower() not in seen and "\t" not in x and "|" not in x:
            seen.add(x.lower()); out.append(x)
    return out

print("iso3\tiso2\tnumeric\tunhcr\tname\taliases")
done = set()
for c in sorted(pycountry.countries, key=lambda c: c.alpha_3):
    names = [c.name, getattr(c, "common_name", None), getattr(c, "official_name", None)]
    names += [t.gettext(c.name) for t in trans]
    if getattr(c, "official_name", None):
        names += [t.gettext(c.official_name) for t in trans]
    codes = [EUROSTAT_CODE.get(c.alpha_3)]
    unhcr_codes = []
    for code, name in unhcr.get(c.alpha_3, []):
        unhcr_codes.append(code); names.append(name)
    aliases = clean(codes + names + EXTRA.get(c.alpha_3, []))
    aliases = [a for a in aliases if a not in (c.alpha_3, c.alpha_2, c.numeric)]
    print("\t".join([c.alpha_3, c.alpha_2, c.numeric, "|".join(clean(unhcr_codes)), getattr(c, "common_name", c.name), "|".join(aliases)]))
    done.add(c.alpha_3)
for iso3, iso2, num, name, extra in SPECIAL:
    aliases, codes = list(extra), []
    for code, n in unhcr.get(iso3, []):
        codes.append(code); aliases.append(n)
    print("\t".join([iso3, iso2, num, "|".join(clean(codes)), name, "|".join(clean(aliases))]))
    done.add(iso3)
missing = [k for k in unhcr if k not in done]
if missing:
    print("UNHCR codes with no entry:", missing, file=sys.stderr)
