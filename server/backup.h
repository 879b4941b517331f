/*
 * tamwild backup and restore. A backup is a consistent online copy of the
 * database, taken while the daemon serves. A restore puts one back only
 * after checking it as `tamwild check` does, against the state folder's
 * own server key: a copy whose log or checkpoints do not verify, or whose
 * tables differ from the log's replay, is refused and nothing changes.
 * The keys are not in a backup: they are backed up once, on their own.
 */
#ifndef TAMWIL_BACKUP_H
#define TAMWIL_BACKUP_H

#include <stdio.h>

/*
 * Copies the database of state folder dir into the new file out_path
 * (refused when it exists). Reports to report. Returns 0, or 1 with the
 * reason reported.
 */
int backup_take(const char *dir, const char *out_path, FILE *report);

/*
 * Replaces the database of state folder dir with the backup from, after
 * checking it (an older schema is upgraded first). Refused while tamwild
 * runs on dir. The replaced database is kept beside it. Reports to
 * report; returns 0, or 1 with the reason reported.
 */
int backup_restore(const char *dir, const char *from, FILE *report);

#endif
