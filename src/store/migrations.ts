/**
 * Schema migrations for the SQL backends. Each list is ordered and a
 * migration's position (from 1) is its version, recorded in the
 * `stepwise_migrations` table; backends apply the ones they have not recorded
 * yet, inside one write transaction. Append new migrations, never edit old ones.
 */

/** The table each SQL backend records applied versions in. */
export const MIGRATIONS_TABLE = 'stepwise_migrations';

/** SQLite: JSON as TEXT, times as INTEGER milliseconds since the epoch. */
export const sqliteMigrations: readonly string[] = [
  `CREATE TABLE runs (
     id          TEXT PRIMARY KEY,
     workflow    TEXT NOT NULL,
     version     TEXT NOT NULL,
     definition  TEXT NOT NULL,
     status      TEXT NOT NULL,
     input       TEXT NOT NULL,
     output      TEXT NOT NULL,
     failure     TEXT,
     usage       TEXT NOT NULL,
     snapshot    TEXT NOT NULL,
     options     TEXT NOT NULL,
     wake_at     INTEGER,
     lease_owner TEXT,
     lease_until INTEGER,
     created_at  INTEGER NOT NULL,
     updated_at  INTEGER NOT NULL,
     revision    INTEGER NOT NULL
   );
   CREATE INDEX runs_created ON runs (created_at DESC, id);
   CREATE INDEX runs_status ON runs (status, created_at DESC);
   CREATE INDEX runs_workflow ON runs (workflow, created_at DESC);
   CREATE INDEX runs_claim ON runs (status, wake_at, lease_until);
   CREATE TABLE journal (
     run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
     seq     INTEGER NOT NULL,
     step    TEXT,
     visit   INTEGER NOT NULL,
     attempt INTEGER NOT NULL,
     event   TEXT NOT NULL,
     at      INTEGER NOT NULL,
     payload TEXT,
     PRIMARY KEY (run_id, seq)
   ) WITHOUT ROWID;
   CREATE TABLE shared (
     key        TEXT PRIMARY KEY,
     value      TEXT,
     updated_at INTEGER NOT NULL
   );`,
  // A commit rewrites the whole runs row: the definition (which never changes) moves to a table of its own, keyed
  // by the SHA-256 of its text (`stepwise_sha256`, a function the store registers) and written once per distinct
  // definition; the small columns come first and the snapshot last, so reading the ones a commit checks does not
  // walk the snapshot's overflow pages. The journal becomes a rowid table: an entry's payload (a step's output)
  // stays on the table's leaf page, where a WITHOUT ROWID key spills it past about 1 KB.
  `CREATE TABLE definitions (
     hash       TEXT PRIMARY KEY,
     definition TEXT NOT NULL
   );
   INSERT OR IGNORE INTO definitions (hash, definition) SELECT stepwise_sha256(definition), definition FROM runs;
   CREATE TABLE runs_v2 (
     id              TEXT PRIMARY KEY,
     workflow        TEXT NOT NULL,
     version         TEXT NOT NULL,
     definition_hash TEXT NOT NULL,
     status          TEXT NOT NULL,
     wake_at         INTEGER,
     lease_owner     TEXT,
     lease_until     INTEGER,
     created_at      INTEGER NOT NULL,
     updated_at      INTEGER NOT NULL,
     revision        INTEGER NOT NULL,
     options         TEXT NOT NULL,
     usage           TEXT NOT NULL,
     failure         TEXT,
     input           TEXT NOT NULL,
     output          TEXT NOT NULL,
     snapshot        TEXT NOT NULL
   );
   INSERT INTO runs_v2 (id, workflow, version, definition_hash, status, wake_at, lease_owner, lease_until, created_at,
       updated_at, revision, options, usage, failure, input, output, snapshot)
     SELECT id, workflow, version, stepwise_sha256(definition), status, wake_at, lease_owner, lease_until, created_at,
       updated_at, revision, options, usage, failure, input, output, snapshot FROM runs;
   CREATE TABLE journal_v2 (
     run_id  TEXT NOT NULL REFERENCES runs_v2 (id) ON DELETE CASCADE,
     seq     INTEGER NOT NULL,
     step    TEXT,
     visit   INTEGER NOT NULL,
     attempt INTEGER NOT NULL,
     event   TEXT NOT NULL,
     at      INTEGER NOT NULL,
     payload TEXT,
     UNIQUE (run_id, seq)
   );
   INSERT INTO journal_v2 (run_id, seq, step, visit, attempt, event, at, payload)
     SELECT run_id, seq, step, visit, attempt, event, at, payload FROM journal ORDER BY run_id, seq;
   DROP TABLE journal;
   DROP TABLE runs;
   ALTER TABLE runs_v2 RENAME TO runs;
   ALTER TABLE journal_v2 RENAME TO journal;
   CREATE INDEX runs_created ON runs (created_at DESC, id);
   CREATE INDEX runs_status ON runs (status, created_at DESC);
   CREATE INDEX runs_workflow ON runs (workflow, created_at DESC);
   CREATE INDEX runs_claim ON runs (status, wake_at, lease_until);`,
];

/** The SQL function the SQLite migrations call for a definition's key: the hex SHA-256 of its text. */
export const SQLITE_HASH_FUNCTION = 'stepwise_sha256';

/**
 * PostgreSQL: JSON columns (JSONB before version 2), BIGINT milliseconds. `schema` is an already quoted
 * identifier; every name is qualified with it.
 */
export function postgresMigrations(schema: string): readonly string[] {
  return [
    `CREATE TABLE ${schema}.runs (
       id          TEXT PRIMARY KEY,
       workflow    TEXT NOT NULL,
       version     TEXT NOT NULL,
       definition  JSONB NOT NULL,
       status      TEXT NOT NULL,
       input       JSONB NOT NULL,
       output      JSONB NOT NULL,
       failure     JSONB,
       usage       JSONB NOT NULL,
       snapshot    JSONB NOT NULL,
       options     JSONB NOT NULL,
       wake_at     BIGINT,
       lease_owner TEXT,
       lease_until BIGINT,
       created_at  BIGINT NOT NULL,
       updated_at  BIGINT NOT NULL,
       revision    INTEGER NOT NULL
     );
     CREATE INDEX runs_created ON ${schema}.runs (created_at DESC, id);
     CREATE INDEX runs_status ON ${schema}.runs (status, created_at DESC);
     CREATE INDEX runs_workflow ON ${schema}.runs (workflow, created_at DESC);
     CREATE INDEX runs_claim ON ${schema}.runs (status, wake_at, lease_until);
     CREATE TABLE ${schema}.journal (
       run_id  TEXT NOT NULL REFERENCES ${schema}.runs (id) ON DELETE CASCADE,
       seq     INTEGER NOT NULL,
       step    TEXT,
       visit   INTEGER NOT NULL,
       attempt INTEGER NOT NULL,
       event   TEXT NOT NULL,
       at      BIGINT NOT NULL,
       payload JSONB,
       PRIMARY KEY (run_id, seq)
     );
     CREATE TABLE ${schema}.shared (
       key        TEXT PRIMARY KEY,
       value      JSONB,
       updated_at BIGINT NOT NULL
     );`,
    // JSONB reorders object keys (shortest first); JSON keeps the text as written, so a run's
    // output, input and usage read back in the order the user wrote them.
    `ALTER TABLE ${schema}.runs
       ALTER COLUMN definition TYPE JSON USING definition::json,
       ALTER COLUMN input TYPE JSON USING input::json,
       ALTER COLUMN output TYPE JSON USING output::json,
       ALTER COLUMN failure TYPE JSON USING failure::json,
       ALTER COLUMN usage TYPE JSON USING usage::json,
       ALTER COLUMN snapshot TYPE JSON USING snapshot::json,
       ALTER COLUMN options TYPE JSON USING options::json;
     ALTER TABLE ${schema}.journal ALTER COLUMN payload TYPE JSON USING payload::json;`,
  ];
}
