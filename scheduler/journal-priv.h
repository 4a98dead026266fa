/*
 * journal-priv.h: what the journal's two files (journal.c: plans, moves,
 * events; journal-state.c: lock, maintenance, evacuations) share.
 */
#pragma once

#include "collectors/collectors.h"

struct _VbJournal {
    VbStore *store;   /* borrowed: the database */
    char *token;      /* random, identifies this journal in the lock row */
    gboolean locked;  /* this journal holds the acting lock */
};

/* Index of @name in the NULL-terminated @names, or @fallback. */
guint vb_journal_enum(const char *const *names, const char *name, guint fallback);
