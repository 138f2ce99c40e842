/*
 * ctl.h - the controller (docs/controller.md): the one writer of the cluster's metadata.
 *
 * Its state is a metadata store (meta.h) that is nothing but its log applied: every operation
 * runs on the store with the journal on, and what it changed is appended to the metadata log
 * as one batch of records (meta.h "Records"), as AutoMQ's StreamControlManager and
 * S3ObjectControlManager append one atomic batch of KRaft records per request.  At least every
 * conf.snapshot_records records the controller takes a snapshot (the whole state as records, at
 * a log offset, like KRaft's snapshots); the log before the snapshot is dropped once no reader
 * still needs it.
 *
 * A failover (`crash node=controller`: the active controller's process dies and a standby
 * takes over) loses the store and rebuilds it from the latest snapshot plus the log after it.
 * What it rebuilds equals what was lost (ctl_failover checks it and logs an error otherwise).
 *
 * Readers of the log (the brokers' images, mdc.h) register their applied offset so the log
 * keeps what they still have to apply, and a listener hears of every new batch.
 *
 * The engine's broker side never calls this file's store: it goes through its metadata client
 * (mdc.h), which holds the broker's image and sends the requests.
 */
#ifndef S3SIM_CTL_H
#define S3SIM_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "meta.h"

struct ctl_conf {
    struct meta_conf meta;    /* the store's switches (ns is copied) */
    int64_t snapshot_records; /* controller.snapshot.records: a snapshot at least this often */
};

struct ctl_stats {
    uint64_t records;   /* records appended */
    uint64_t batches;   /* batches appended */
    uint64_t snapshots; /* snapshots taken */
    uint64_t failovers; /* rebuilds from snapshot + log */
    uint64_t replayed;  /* records applied by those rebuilds (snapshot records included) */
};

/* A batch of the log: the records of one operation. */
struct ctl_batch {
    struct meta_rec *recs;
    size_t n;
};

struct ctl;

/* Called after each batch is appended (offset = its log offset), and with offset -1 after a
 * failover: the new controller's snapshot is there to load. */
typedef void (*ctl_listen_fn)(void *arg, int64_t offset);

/* Creates an empty controller (no stream, no object).  ERR_INVAL, ERR_NOMEM. */
int ctl_new(struct env *env, const struct ctl_conf *conf, struct ctl **out);
void ctl_free(struct ctl *c);

/* The controller's state.  Borrowed: valid until the next operation or failover. */
const struct meta *ctl_store(const struct ctl *c);
const struct ctl_stats *ctl_stats(const struct ctl *c);

/* ---- Node epochs (AutoMQ: a broker registers at each start and gets a new epoch; requests
 * carry it and the controller refuses an older one, NODE_EPOCH_EXPIRED). ---- */
#define CTL_NODES META_NODES
/* Registers node: its new epoch (>= 1), written to the log (a node record), so a failover keeps
 * it.  ERR_INVAL for a node id out of range. */
int ctl_node_register(struct ctl *c, int64_t node);
/* 0: epoch is the node's current one; ERR_ABORTED: an older epoch (NODE_EPOCH_EXPIRED);
 * ERR_NOTFOUND: the node never registered (NODE_EPOCH_NOT_EXIST). */
int ctl_node_check(const struct ctl *c, int64_t node, int64_t epoch);

/* ---- Operations: the meta.h operation of the same name, then its records appended. ---- */
int ctl_stream_create(struct ctl *c, int64_t id);
int ctl_trim(struct ctl *c, int64_t stream, int64_t new_start);
int ctl_stream_delete(struct ctl *c, int64_t stream, int64_t now);
int ctl_prepare(struct ctl *c, int count, int64_t ttl_us, int64_t now, int64_t *first);
int ctl_commit_sso(struct ctl *c, const struct meta_sso_commit *req, int64_t now);
int ctl_commit_stream(struct ctl *c, const struct meta_stream_commit *req, int64_t now);
int ctl_mark(struct ctl *c, const int64_t *ids, const enum meta_op *ops, size_t n, int64_t now);
int ctl_remove(struct ctl *c, const int64_t *ids, size_t n, size_t *removed);
int ctl_expire_prepared(struct ctl *c, int64_t now, size_t max, meta_object_fn fn, void *arg);

/* Tests: the store to change directly; ctl_sync() then logs what changed as one batch. */
struct meta *ctl_store_mut(struct ctl *c);
void ctl_sync(struct ctl *c);

/* ---- Queries of the controller's own jobs (the cleaner). ---- */
const struct meta_object *ctl_object_get(const struct ctl *c, int64_t id);
const char *ctl_namespace(const struct ctl *c);
int64_t ctl_next_deadline(const struct ctl *c);
size_t ctl_marked(const struct ctl *c, int64_t *out, size_t max);
int ctl_foreach_link(const struct ctl *c, meta_link_fn fn, void *arg);

/* ---- The log. ---- */

/* Offset of the next batch (batches are numbered from 0). */
int64_t ctl_log_end(const struct ctl *c);
/* The batch at offset, or NULL when it was dropped behind a snapshot or is not written yet. */
const struct ctl_batch *ctl_log_at(const struct ctl *c, int64_t offset);
/* The latest snapshot: its records and the log offset it covers up to (batches < *offset). */
void ctl_snapshot_get(const struct ctl *c, const struct meta_rec **recs, size_t *n,
                      int64_t *offset);
/* Takes a snapshot now.  ERR_NOMEM. */
int ctl_snapshot_now(struct ctl *c);
/* A reader of the log: *applied is the next offset it will apply (the log keeps the batches
 * from there on); fn (may be NULL) hears of every new batch.  Up to 8.  ERR_BUSY. */
int ctl_reader_add(struct ctl *c, const int64_t *applied, ctl_listen_fn fn, void *arg);
void ctl_reader_remove(struct ctl *c, const int64_t *applied);

/* Builds a fresh store from the latest snapshot and the log after it (a standby controller,
 * a broker's image after a restart).  *out is the caller's.  ERR_NOMEM. */
int ctl_replay(const struct ctl *c, struct meta **out, size_t *applied_records);

/* `crash node=controller`: the store is dropped and rebuilt by ctl_replay; the new controller
 * then writes a snapshot, which the readers load (their listeners hear offset -1).  ERR_NOMEM
 * (the old store is kept). */
int ctl_failover(struct ctl *c);

#endif /* S3SIM_CTL_H */
