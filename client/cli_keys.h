/*
 * Key commands of tamwil: `keygen` makes a private key file, `key public`
 * prints the public key file to send to head office; and the loading of
 * a private key file, asking for its passphrase when it is protected.
 */
#ifndef TAMWIL_CLI_KEYS_H
#define TAMWIL_CLI_KEYS_H

#include <stdio.h>

#include "cli_config.h"
#include "keyfile.h"

/* tamwil keygen --out FILE [--protect]; returns an exit status. */
int cli_keygen_main(const struct cli_globals *g, int argc, char **argv);
void cli_keygen_usage(FILE *out);

/* tamwil key public [FILE] [--out PUBFILE]; returns an exit status. */
int cli_key_main(const struct cli_globals *g, int argc, char **argv);
void cli_key_usage(FILE *out);

/*
 * Makes a new private key file at path (never over an existing file),
 * sealed under a new passphrase when protect is 1, and prints its
 * fingerprint. Returns an exit status.
 */
int cli_keygen_write(const char *path, int protect);

/*
 * Prints the public key file of the private key at path on stdout, or
 * writes it to out (a new file) when out is not NULL. Returns an exit
 * status.
 */
int cli_key_public_write(const char *path, const char *out);

/*
 * Reads the private key file at path into k. A protected file takes its
 * passphrase from $TAMWIL_PASSPHRASE, else from a prompt when stdin is a
 * terminal (three tries). Prints why it failed and returns -1, or returns
 * 0; the caller wipes k with sodium_memzero().
 */
int cli_load_secret(const char *path, keyfile_secret *k);

/*
 * Reads the public key file at path (the server's, usually) into pub.
 * Prints why it failed and returns -1, or returns 0.
 */
int cli_load_public(const char *path, keyfile_public *pub);

#endif
