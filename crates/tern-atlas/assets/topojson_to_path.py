#!/usr/bin/env python3
"""Derives land-110m.svgpath from world-atlas's land-110m.json (TopoJSON).

Usage: npm pack world-atlas && tar xzf world-atlas-*.tgz &&
       python3 topojson_to_path.py package/land-110m.json > land-110m.svgpath

Output: one SVG path "d" string in an equirectangular projection on a 3600x1800 grid
(x = (lon + 180) * 10, y = (90 - lat) * 10), integer coordinates, relative moves.
"""
import json, sys

topo = json.load(open(sys.argv[1]))
sx, sy = topo["transform"]["scale"]
tx, ty = topo["transform"]["translate"]
arcs = []
for arc in topo["arcs"]:
    x = y = 0
    pts = []
    for dx, dy in arc:
        x += dx; y += dy
        pts.append((x * sx + tx, y * sy + ty))
    arcs.append(pts)

def ring(idxs):
    out = []
    for i in idxs:
        pts = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        out.extend(pts if not out else pts[1:])
    return out

polys = []
for geom in topo["objects"]["land"]["geometries"]:
    if geom["type"] == "Polygon":
        polys.append(geom["arcs"])
    elif geom["type"] == "MultiPolygon":
        polys.extend(geom["arcs"])

parts = []
for poly in polys:
    for r in poly:
        pts = [(round((lon + 180) * 10), round((90 - lat) * 10)) for lon, lat in ring(r)]
        dedup = [pts[0]]
        for p in pts[1:]:
            if p != dedup[-1]:
                dedup.append(p)
        if len(dedup) < 3:
            continue
        # Rings cut at the antimeridian jump from x=3600 to x=0: start a new subpath there
        # instead of drawing a line across the whole map.
        s = "M%d %d" % dedup[0]
        px, py = dedup[0]
        rel = []
        for x, y in dedup[1:]:
            if abs(x - px) > 1800:
                s += ("l" + " ".join(rel) if rel else "") + "M%d %d" % (x, y)
                rel = []
            else:
                rel.append("%d %d" % (x - px, y - py))
            px, py = x, y
        parts.append(s + ("l" + " ".join(rel) if rel else "") + "z")
sys.stdout.write("".join(parts) + "\n")
