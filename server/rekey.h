/*
 * tamwild rekey: rotation of the at-rest keys (the AEAD key of the sealed
 * identities and the blind-index key). A new key version goes into
 * rest.keys, the running daemon (if any) is made to hold it, then every
 * identity is sealed anew under it in small transactions. Interrupted, it
 * carries on where it stopped when run again. docs/KEYS.md describes it.
 */
#ifndef TAMWIL_REKEY_H
#define TAMWIL_REKEY_H

#include <stdio.h>

#include "server.h"
#include "store.h"
#include "tamwil.pb-c.h"

/* Largest sealed identity a rotation or a check reads. */
#define REKEY_SEALED_MAX 4200

/*
 * Opens the sealed identity b under the version it names in ring into
 * plain (b->identity_len - SEAL_REST_OVERHEAD bytes written; the caller
 * wipes them), and checks that its stored blind index is its national
 * ID's under that version. 0 with *id (the caller frees it with
 * tamwil__v1__identity__free_unpacked), or -1 with why in err: a version
 * ring does not hold, an identity that does not open or is not an
 * Identity, or a blind index that is not its own.
 */
int rekey_open_identity(const seal_ring *ring, const store_sealed *b,
			uint8_t plain[REKEY_SEALED_MAX],
			Tamwil__V1__Identity **id, char *err, size_t err_len);

/*
 * Rotates the at-rest keys of the state folder dir, whose state srv was
 * loaded from (server_load): adds a version unless identities are left
 * under an older one (an interrupted rotation, which this resumes), waits
 * until a running daemon holds it, then seals every identity anew under
 * it. Writes its progress and a final line to out. Returns 0 when every
 * identity is under the newest version, 1 after saying why not.
 */
int rekey_run(server *srv, const char *dir, FILE *out);

/*
 * Retires at-rest key version from dir's rest.keys (its key erased, its
 * number kept), once no identity is sealed under it: not version 0 (from
 * the data key) nor the newest. A daemon that holds it keeps it until it
 * restarts. Writes what it did, or why not, to out. Returns 0 or 1.
 */
int rekey_retire(server *srv, const char *dir, unsigned version, FILE *out);

#endif
