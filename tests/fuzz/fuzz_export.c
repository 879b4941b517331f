/*
 * Fuzz target: the audit export reader and the offline verification that
 * `tamwil audit verify` runs (client/export.c, common/replay.c). The input
 * is an export file; it is verified against the signing key of the head
 * office of fuzz_world.c, whose export is the seed, so mutations start
 * from a file that verifies; with its data key, so that every sealed
 * identity is opened and checked too. Verification must end with 0 or with -1
 * and a reason, never crash, leak or hang.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_rng.h"
#include "fuzz_world.h"
#include "tamwil-export.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The file each input is written to, and the keys it is checked with. */
static char path[64];
static uint8_t sign_pk[KEYFILE_KEYLEN], data_sk[KEYFILE_KEYLEN];

static void fuzz_export_done(void)
{
	if (path[0] != '\0')
		unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_world *w;
	int fd;

	(void)argc;
	(void)argv;
	if (fuzz_rng_install() != 0)
		abort();
	/* The same stream builds the same head office as the seed's. */
	w = fuzz_world_open(NULL, NULL);
	if (w == NULL)
		abort();
	memcpy(sign_pk, w->srv->key.sign_pk, sizeof(sign_pk));
	memcpy(data_sk, w->srv->data.sk, sizeof(data_sk));
	fuzz_world_close(w);
	snprintf(path, sizeof(path), "%s/tamwil-export-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	atexit(fuzz_export_done);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tamwil_export_summary sum;
	char why[512];
	FILE *f = fopen(path, "wb");
	int rc;

	if (f == NULL)
		abort();
	if (fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	rc = tamwil_export_verify(path, sign_pk, NULL, data_sk, NULL, NULL,
				  &sum, why, sizeof(why));
	if (rc != 0 && (rc != -1 || why[0] == '\0'))
		abort(); /* a refusal says why */
	if (rc == 0 && sum.entries != sum.checkpoints)
		abort();
	return 0;
}
