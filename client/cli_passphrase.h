/*
 * Passphrases of protected key files: from $TAMWIL_PASSPHRASE, or typed
 * on the terminal with echo turned off. Buffers are the caller's, who
 * wipes them (sodium_memzero) when done.
 */
#ifndef TAMWIL_CLI_PASSPHRASE_H
#define TAMWIL_CLI_PASSPHRASE_H

#include <stddef.h>

#define CLI_PASSPHRASE_MAX 1024
#define CLI_PASSPHRASE_ENV "TAMWIL_PASSPHRASE"

/* 1 when a passphrase can be asked for on a terminal (stdin is a tty). */
int cli_passphrase_can_prompt(void);

/*
 * Copies $TAMWIL_PASSPHRASE into buf (capacity cap). Returns 0, or -1 if
 * it is unset, empty or too long.
 */
int cli_passphrase_from_env(char *buf, size_t cap);

/*
 * Shows prompt on the terminal and reads one line with echo off into buf
 * (without its newline). Returns 0, or -1 without a terminal, on end of
 * input or when the line does not fit.
 */
int cli_passphrase_prompt(const char *prompt, char *buf, size_t cap);

/*
 * The passphrase for a new key file: $TAMWIL_PASSPHRASE, else asked twice
 * on the terminal. Prints why it failed and returns -1, or returns 0.
 */
int cli_passphrase_new(const char *path, char *buf, size_t cap);

#endif
