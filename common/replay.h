/*
 * Offline verification of the audit log. Fed the entries of an export in
 * order, it checks every signature and that the signer held a role (and
 * region) allowed for the operation at that point of the log, with the
 * server's signing key as the only trust anchor; it rebuilds the Merkle
 * tree in O(log n) memory and checks each checkpoint's signature and
 * root; and it replays the operations to rebuild programmes and
 * applications, checking each entry's stated outcome against the replay.
 * The first failure names the entry's sequence number and what is wrong.
 */
#ifndef TAMWIL_REPLAY_H
#define TAMWIL_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "tamwil.pb-c.h"

#define REPLAY_ERR_MAX 512

typedef struct replay replay;

/* Starts a verification anchored on the server's Ed25519 key. NULL on OOM. */
replay *replay_new(const uint8_t *server_sign_pk);

void replay_free(replay *r);

/*
 * Gives head office's data secret key (32 bytes, copied; wiped by
 * replay_free()): from then on every submission's sealed identity is
 * opened with the key it shares with its submitter and checked as head
 * office checks it (ID, names, contact as text; the birth date agreeing
 * with the birth year in clear). Without it sealed fields stay closed.
 */
void replay_set_data_key(replay *r, const uint8_t *data_sk);

/* Sealed identities opened and checked so far. */
uint64_t replay_identities(const replay *r);

/*
 * Feeds the next entry (its serialized LogEntry bytes, exactly as
 * exported). Returns 0, or -1 with "entry N: ..." in err.
 */
int replay_entry(replay *r, const uint8_t *entry, size_t len, char *err,
		 size_t err_len);

/*
 * Checks a checkpoint: its signature, and that its size is one the
 * entries fed so far reach and its root is the root of that tree.
 * Returns 0 or -1 with the reason in err. Checkpoints must come in
 * increasing size, each right after the entry that completes it.
 */
int replay_checkpoint(replay *r, const checkpoint *cp, char *err,
		      size_t err_len);

/* Entries fed so far. */
uint64_t replay_size(const replay *r);

/*
 * Compares an application as the export states it with the replay's:
 * state, programme, region and every amount. 0 or -1 with err.
 */
int replay_check_application(replay *r, const Tamwil__V1__ExportApplication *a,
			     char *err, size_t err_len);

/* Likewise for a programme: currency, envelope, granted, disbursed. */
int replay_check_programme(replay *r, const Tamwil__V1__ExportProgramme *p,
			   char *err, size_t err_len);

/*
 * After every stated application and programme was checked: -1 (with
 * err) if the replay holds one the export did not state.
 */
int replay_finish(replay *r, char *err, size_t err_len);

/* Counts, for reports: applications and programmes rebuilt. */
void replay_counts(const replay *r, uint64_t *applications,
		   uint64_t *programmes, uint64_t *principals);

/*
 * The reference of the application an operation acts on, or NULL for
 * one that acts on none. A submission's reference is the one its
 * outcome out assigned (NULL when out is NULL).
 */
const char *replay_op_reference(const Tamwil__V1__Operation *op,
				const Tamwil__V1__OperationResult *out);

#endif
