#!/usr/bin/python3
"""Peer for bench/registry_bench: the same reads with Python's sqlite3 on the same registry.db,
each decoded to Python objects (JSON columns parsed) as the studio decodes its records; the
version listing, like the studio's, leaves the recipe undecoded.
Prints four medians in ms: open, list a model's versions, load one loss curve, list models.
Usage: registry_peer.py REGISTRY_DB MODEL RUN_ID"""
import json, sqlite3, statistics, sys, time

db, model, run = sys.argv[1], sys.argv[2], int(sys.argv[3])


def median_ms(f, reps=5):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def open_db():
    c = sqlite3.connect(db)
    c.execute("PRAGMA journal_mode=WAL").fetchone()
    c.execute("PRAGMA user_version").fetchone()
    c.execute("SELECT id, pid, pid_start FROM runs WHERE status = 'running'").fetchall()
    c.close()


conn = sqlite3.connect(db)


def versions():
    rows = conn.execute(
        "SELECT v.id, v.number, v.kind, v.created, v.notes, v.inputs_json, v.outputs_json, "
        "v.class_names_json, v.parameter_count, v.size_bytes, v.sha256, v.recipe_json, "
        "v.metrics_json, v.run_id FROM versions v JOIN models m ON m.id = v.model_id "
        "WHERE m.name = ? ORDER BY v.number DESC", (model,)).fetchall()
    tags = conn.execute("SELECT t.version_id, t.key, t.value FROM tags t JOIN versions v ON "
                        "v.id = t.version_id JOIN models m ON m.id = v.model_id WHERE m.name = ?",
                        (model,)).fetchall()
    aliases = conn.execute("SELECT a.alias, a.version_id FROM aliases a JOIN models m ON "
                           "m.id = a.model_id WHERE m.name = ?", (model,)).fetchall()
    return [dict(id=r[0], number=r[1], kind=r[2], created=r[3], notes=r[4],
                 inputs=json.loads(r[5]), outputs=json.loads(r[6]), classes=json.loads(r[7]),
                 params=r[8], size=r[9], sha=r[10], recipe=r[11],
                 metrics=json.loads(r[12]), run=r[13]) for r in rows], tags, aliases


def curve():
    return conn.execute("SELECT step, epoch, value, wall_s FROM metrics WHERE run_id = ? AND "
                        "key = 'loss' ORDER BY step", (run,)).fetchall()


def models():
    return conn.execute("SELECT m.id, m.name, m.description, m.created, COUNT(v.id), "
                        "MAX(v.number) FROM models m LEFT JOIN versions v ON v.model_id = m.id "
                        "GROUP BY m.id ORDER BY m.name").fetchall()


print(f"{median_ms(open_db):.2f} {median_ms(versions):.2f} {median_ms(curve):.2f} "
      f"{median_ms(models):.2f}")
