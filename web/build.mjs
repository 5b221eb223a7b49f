// Bundles the page script (charts and maps) and the map geometry into web/dist, which the
// nansen-web crate embeds in the binary. Reads only node_modules and the repository.
import { build } from "esbuild";
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { feature } from "topojson-client";

const dist = new URL("./dist/", import.meta.url);
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: [new URL("./src/app.js", import.meta.url).pathname],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "linked",
  outfile: new URL("app.js", dist).pathname,
});

// Natural Earth 1:50m countries (world-atlas), keyed by ISO 3166-1 numeric; Nansen speaks
// ISO alpha-3, so each feature is renamed from the code list the server uses too.
const countries = readFileSync(new URL("../crates/nansen-codes/data/countries.tsv", import.meta.url), "utf8")
  .split("\n").slice(1).filter(Boolean).map((l) => l.split("\t"));
const iso3 = new Map(countries.map(([a3, , num]) => [num, a3]));
const topo = JSON.parse(readFileSync(new URL("./node_modules/world-atlas/countries-50m.json", import.meta.url)));
const world = feature(topo, topo.objects.countries);
world.features = world.features
  .map((f) => ({ type: "Feature", geometry: f.geometry, properties: { name: iso3.get(f.id) || (f.properties.name === "Kosovo" ? "XKX" : f.properties.name) } }))
  .filter((f) => f.geometry);
// The geometry is spherical: a ring crossing the antimeridian (Russia, Fiji) would be drawn
// as a stripe across a flat map, so such rings continue past 180 degrees east instead.
// Antarctica holds no one's data here and only takes room.
world.features = world.features.filter((f) => f.properties.name !== "ATA");
const unwrap = (ring) => {
  const lons = ring.map((p) => p[0]);
  return Math.max(...lons) - Math.min(...lons) > 180 ? ring.map(([x, y]) => [x < 0 ? x + 360 : x, y]) : ring;
};
for (const f of world.features) {
  const g = f.geometry;
  if (g.type === "Polygon") g.coordinates = g.coordinates.map(unwrap);
  if (g.type === "MultiPolygon") g.coordinates = g.coordinates.map((poly) => poly.map(unwrap));
}
// Two decimals (about a kilometre) are plenty for a choropleth and halve the file.
const round = (c) => (typeof c[0] === "number" ? [Math.round(c[0] * 100) / 100, Math.round(c[1] * 100) / 100] : c.map(round));
for (const f of world.features) f.geometry.coordinates = round(f.geometry.coordinates);
writeFileSync(new URL("world.json", dist), JSON.stringify(world));

copyFileSync(new URL("./node_modules/world-atlas/LICENSE", import.meta.url), new URL("world-atlas.LICENSE.txt", dist));
console.log("web/dist: app.js, world.json");
