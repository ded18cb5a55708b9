"""Complete Kea 2.2's lease schema: statistics tables, the functions Kea needs, the stat triggers.

kea-dhcp4/kea-dhcp6 2.2 prepare statements at connect time against `lease4_stat`, `lease6_stat`,
`lease4_stat_by_client_class`, `lease6_stat_by_client_class` and the SQL functions
`isJsonSupported()`, `checkLease4Limits(text)`, `checkLease6Limits(text)` (PostgreSQL also
`json_cast(text)`), and refuse a database where one is missing. They read lease statistics from
the stat tables, which AFTER INSERT/UPDATE/DELETE row triggers on lease4/lease6 keep current
(states 0 and 1 per subnet [and type]; state-0 leases per client class listed in
`user_context.ISC.client-classes`).

The DDL is leasesync's own. Object names and signatures are Kea's (`lease4_AINS` triggers calling
`func_lease4_AINS()`, helper routines `lease4_AINS_lease4_stat(...)` ...), so Kea's tools and
upgrade scripts find what they expect.

Only databases whose Kea schema leasesync created (revision 0001) are completed; one created by
Kea's `kea-admin db-init` already has all of this and is not touched. Each object is created only
when missing (a MySQL run interrupted half-way, which cannot roll back DDL, is completed next
time); when a lease table's triggers had to be created its statistics are recounted.

SQLite gets the same stat tables and equivalent triggers (no Kea there).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import json
from collections import Counter
from typing import NamedTuple

import sqlalchemy as sa
from alembic import op

from app.store import schema
from app.store.migrate import KEA_SCHEMA_ORIGIN_KEY, check_kea_schema_version

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


class _Object(NamedTuple):
    kind: str  # "table", "routine" or "trigger"
    name: str  # PostgreSQL routines: the signature, as to_regprocedure() takes it
    family: int  # the lease table it belongs to (4 or 6); its statistics are recounted per family
    ddl: str


# === PostgreSQL ================================================================================

_PG_TABLES = [
    _Object("table", "lease4_stat", 4, """CREATE TABLE IF NOT EXISTS lease4_stat (
        subnet_id BIGINT NOT NULL,
        state BIGINT NOT NULL,
        leases BIGINT,
        PRIMARY KEY (subnet_id, state))"""),
    _Object("table", "lease6_stat", 6, """CREATE TABLE IF NOT EXISTS lease6_stat (
        subnet_id BIGINT NOT NULL,
        lease_type SMALLINT NOT NULL,
        state BIGINT NOT NULL,
        leases BIGINT,
        PRIMARY KEY (subnet_id, lease_type, state))"""),
    _Object("table", "lease4_stat_by_client_class", 4, """CREATE TABLE IF NOT EXISTS lease4_stat_by_client_class (
        client_class VARCHAR(128) NOT NULL PRIMARY KEY,
        leases BIGINT NOT NULL)"""),
    _Object("table", "lease6_stat_by_client_class", 6, """CREATE TABLE IF NOT EXISTS lease6_stat_by_client_class (
        client_class VARCHAR(128) NOT NULL,
        lease_type SMALLINT NOT NULL,
        leases BIGINT NOT NULL,
        PRIMARY KEY (client_class, lease_type),
        CONSTRAINT fk_lease6_stat_by_client_class_lease_type FOREIGN KEY (lease_type)
            REFERENCES lease6_types (lease_type))"""),
]

_PG_FUNCTIONS = [
    # true when the server has JSON functions (always, since PostgreSQL 9.3)
    _Object("routine", "isjsonsupported()", 0, """CREATE FUNCTION isJsonSupported() RETURNS BOOLEAN
    LANGUAGE sql STABLE AS $body$
        SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc WHERE proname = 'json_extract_path')
    $body$"""),
    # user-context text -> json: '' is an empty map, NULL and malformed text are NULL
    _Object("routine", "json_cast(text)", 0, """CREATE FUNCTION json_cast(candidate TEXT) RETURNS JSON
    LANGUAGE plpgsql IMMUTABLE AS $body$
    BEGIN
        IF candidate IS NULL THEN
            RETURN NULL;
        ELSIF length(candidate) = 0 THEN
            RETURN '{}'::json;
        END IF;
        BEGIN
            RETURN candidate::json;
        EXCEPTION WHEN invalid_text_representation THEN
            RETURN NULL;
        END;
    END
    $body$"""),
    # '' when no limit in user_context.ISC.limits is reached, else why
    _Object("routine", "checklease4limits(text)", 0, """CREATE FUNCTION checkLease4Limits(user_context TEXT)
    RETURNS TEXT LANGUAGE plpgsql STABLE AS $body$
    DECLARE
        limits JSON := json_cast(user_context) -> 'ISC' -> 'limits';
        item JSON;
        class_name TEXT;
        lim BIGINT;
        cnt BIGINT;
        sid BIGINT;
    BEGIN
        IF limits IS NULL OR json_typeof(limits) <> 'object' THEN
            RETURN '';
        END IF;
        IF json_typeof(limits -> 'client-classes') = 'array' THEN
            FOR item IN SELECT json_array_elements(limits -> 'client-classes') LOOP
                class_name := item ->> 'name';
                lim := CASE WHEN json_typeof(item -> 'address-limit') = 'number'
                            THEN (item ->> 'address-limit')::NUMERIC::BIGINT END;
                IF lim IS NOT NULL THEN
                    SELECT leases INTO cnt FROM lease4_stat_by_client_class WHERE client_class = class_name;
                    cnt := COALESCE(cnt, 0);
                    IF cnt >= lim THEN
                        RETURN 'address limit ' || lim || ' for client class "' || class_name
                               || '", current lease count ' || cnt;
                    END IF;
                END IF;
            END LOOP;
        END IF;
        sid := CASE WHEN json_typeof(limits -> 'subnet' -> 'id') = 'number'
                    THEN (limits -> 'subnet' ->> 'id')::NUMERIC::BIGINT END;
        lim := CASE WHEN json_typeof(limits -> 'subnet' -> 'address-limit') = 'number'
                    THEN (limits -> 'subnet' ->> 'address-limit')::NUMERIC::BIGINT END;
        IF lim IS NOT NULL THEN
            SELECT leases INTO cnt FROM lease4_stat WHERE subnet_id = sid AND state = 0;
            cnt := COALESCE(cnt, 0);
            IF cnt >= lim THEN
                RETURN 'address limit ' || lim || ' for subnet ID ' || sid || ', current lease count ' || cnt;
            END IF;
        END IF;
        RETURN '';
    END
    $body$"""),
    _Object("routine", "checklease6limits(text)", 0, """CREATE FUNCTION checkLease6Limits(user_context TEXT)
    RETURNS TEXT LANGUAGE plpgsql STABLE AS $body$
    DECLARE
        limits JSON := json_cast(user_context) -> 'ISC' -> 'limits';
        item JSON;
        class_name TEXT;
        kind TEXT;
        ltype SMALLINT;
        lim BIGINT;
        cnt BIGINT;
        sid BIGINT;
    BEGIN
        IF limits IS NULL OR json_typeof(limits) <> 'object' THEN
            RETURN '';
        END IF;
        IF json_typeof(limits -> 'client-classes') = 'array' THEN
            FOR item IN SELECT json_array_elements(limits -> 'client-classes') LOOP
                class_name := item ->> 'name';
                FOREACH kind IN ARRAY ARRAY['address', 'prefix'] LOOP
                    ltype := CASE kind WHEN 'address' THEN 0 ELSE 2 END;
                    lim := CASE WHEN json_typeof(item -> (kind || '-limit')) = 'number'
                                THEN (item ->> (kind || '-limit'))::NUMERIC::BIGINT END;
                    IF lim IS NOT NULL THEN
                        SELECT leases INTO cnt FROM lease6_stat_by_client_class
                            WHERE client_class = class_name AND lease_type = ltype;
                        cnt := COALESCE(cnt, 0);
                        IF cnt >= lim THEN
                            RETURN kind || ' limit ' || lim || ' for client class "' || class_name
                                   || '", current lease count ' || cnt;
                        END IF;
                    END IF;
                END LOOP;
            END LOOP;
        END IF;
        sid := CASE WHEN json_typeof(limits -> 'subnet' -> 'id') = 'number'
                    THEN (limits -> 'subnet' ->> 'id')::NUMERIC::BIGINT END;
        FOREACH kind IN ARRAY ARRAY['address', 'prefix'] LOOP
            ltype := CASE kind WHEN 'address' THEN 0 ELSE 2 END;
            lim := CASE WHEN json_typeof(limits -> 'subnet' -> (kind || '-limit')) = 'number'
                        THEN (limits -> 'subnet' ->> (kind || '-limit'))::NUMERIC::BIGINT END;
            IF lim IS NOT NULL THEN
                SELECT leases INTO cnt FROM lease6_stat
                    WHERE subnet_id = sid AND lease_type = ltype AND state = 0;
                cnt := COALESCE(cnt, 0);
                IF cnt >= lim THEN
                    RETURN kind || ' limit ' || lim || ' for subnet ID ' || sid || ', current lease count ' || cnt;
                END IF;
            END IF;
        END LOOP;
        RETURN '';
    END
    $body$"""),
]

# Per-subnet counters (states 0 and 1) and per-client-class counters (state 0).
_PG_STAT_ROUTINES = [
    _Object("routine", "lease4_ains_lease4_stat(bigint,bigint)", 4, """CREATE FUNCTION
    lease4_AINS_lease4_stat(new_state BIGINT, new_subnet_id BIGINT) RETURNS VOID LANGUAGE plpgsql AS $body$
    BEGIN
        IF new_state IN (0, 1) AND new_subnet_id IS NOT NULL THEN
            INSERT INTO lease4_stat AS s (subnet_id, state, leases) VALUES (new_subnet_id, new_state, 1)
                ON CONFLICT (subnet_id, state) DO UPDATE SET leases = COALESCE(s.leases, 0) + 1;
        END IF;
    END
    $body$"""),
    _Object("routine", "lease4_adel_lease4_stat(bigint,bigint)", 4, """CREATE FUNCTION
    lease4_ADEL_lease4_stat(old_state BIGINT, old_subnet_id BIGINT) RETURNS VOID LANGUAGE plpgsql AS $body$
    BEGIN
        IF old_state IN (0, 1) THEN
            UPDATE lease4_stat SET leases = GREATEST(leases - 1, 0)
                WHERE subnet_id = old_subnet_id AND state = old_state;
        END IF;
    END
    $body$"""),
    _Object("routine", "lease4_aupd_lease4_stat(bigint,bigint,bigint,bigint)", 4, """CREATE FUNCTION
    lease4_AUPD_lease4_stat(old_state BIGINT, old_subnet_id BIGINT, new_state BIGINT, new_subnet_id BIGINT)
    RETURNS VOID LANGUAGE plpgsql AS $body$
    BEGIN
        IF old_subnet_id IS DISTINCT FROM new_subnet_id OR old_state IS DISTINCT FROM new_state THEN
            PERFORM lease4_ADEL_lease4_stat(old_state, old_subnet_id);
            PERFORM lease4_AINS_lease4_stat(new_state, new_subnet_id);
        END IF;
    END
    $body$"""),
    _Object("routine", "lease4_ains_lease4_stat_by_client_class(bigint,text)", 4, """CREATE FUNCTION
    lease4_AINS_lease4_stat_by_client_class(new_state BIGINT, new_user_context TEXT)
    RETURNS VOID LANGUAGE plpgsql AS $body$
    DECLARE
        classes JSON := json_cast(new_user_context) -> 'ISC' -> 'client-classes';
        class_name TEXT;
    BEGIN
        IF new_state = 0 AND json_typeof(classes) = 'array' THEN
            FOR class_name IN SELECT json_array_elements_text(classes) LOOP
                CONTINUE WHEN class_name IS NULL;
                INSERT INTO lease4_stat_by_client_class AS s (client_class, leases) VALUES (class_name, 1)
                    ON CONFLICT (client_class) DO UPDATE SET leases = s.leases + 1;
            END LOOP;
        END IF;
    END
    $body$"""),
    _Object("routine", "lease4_adel_lease4_stat_by_client_class(bigint,text)", 4, """CREATE FUNCTION
    lease4_ADEL_lease4_stat_by_client_class(old_state BIGINT, old_user_context TEXT)
    RETURNS VOID LANGUAGE plpgsql AS $body$
    DECLARE
        classes JSON := json_cast(old_user_context) -> 'ISC' -> 'client-classes';
        class_name TEXT;
    BEGIN
        IF old_state = 0 AND json_typeof(classes) = 'array' THEN
            FOR class_name IN SELECT json_array_elements_text(classes) LOOP
                UPDATE lease4_stat_by_client_class SET leases = GREATEST(leases - 1, 0)
                    WHERE client_class = class_name;
            END LOOP;
        END IF;
    END
    $body$"""),
    _Object("routine", "lease4_aupd_lease4_stat_by_client_class(bigint,text,bigint,text)", 4, """CREATE FUNCTION
    lease4_AUPD_lease4_stat_by_client_class(old_state BIGINT, old_user_context TEXT,
                                            new_state BIGINT, new_user_context TEXT)
    RETURNS VOID LANGUAGE plpgsql AS $body$
    BEGIN
        IF old_state IS DISTINCT FROM new_state
           OR (json_cast(old_user_context) -> 'ISC' -> 'client-classes')::TEXT
              IS DISTINCT FROM (json_cast(new_user_context) -> 'ISC' -> 'client-classes')::TEXT THEN
            PERFORM lease4_ADEL_lease4_stat_by_client_class(old_state, old_user_context);
            PERFORM lease4_AINS_lease4_stat_by_client_class(new_state, new_user_context);
        END IF;
    END
    $body$"""),
    _Object("routine", "lease6_ains_lease6_stat(bigint,bigint,smallint)", 6, """CREATE FUNCTION
    lease6_AINS_lease6_stat(new_state BIGINT, new_subnet_id BIGINT, new_lease_type SMALLINT)
    RETURNS VOID LANGUAGE plpgsql AS $body$
    BEGIN
        IF new_state IN (0, 1) AND new_subnet_id IS NOT NULL AND new_lease_type IS NOT NULL THEN
            INSERT INTO lease6_stat AS s (subnet_id, lease_type, state, leases)
                VALUES (new_subnet_id, new_lease_type, new_state, 1)
                ON CONFLICT (subnet_id, lease_type, state) DO UPDATE SET leases = COALESCE(s.leases, 0) + 1;
        END IF;
    END
    $body$"""),
    _Object("routine", "lease6_adel_lease6_stat(bigint,bigint,smallint)", 6, """CREATE FUNCTION
    lease6_ADEL_lease6_stat(old_state BIGINT, old_subnet_id BIGINT, old_lease_type SMALLINT)
    RETURNS VOID LANGUAGE plpgsql AS $body$
    BEGIN
        IF old_state IN (0, 1) THEN
            UPDATE lease6_stat SET leases = GREATEST(leases - 1, 0)
                WHERE subnet_id = old_subnet_id AND lease_type = old_lease_type AND state = old_state;
        END IF;
    END
    $body$"""),
    _Object("routine", "lease6_aupd_lease6_stat(bigint,bigint,smallint,bigint,bigint,smallint)", 6,
            """CREATE FUNCTION
    lease6_AUPD_lease6_stat(old_state BIGINT, old_subnet_id BIGINT, old_lease_type SMALLINT,
                            new_state BIGINT, new_subnet_id BIGINT, new_lease_type SMALLINT)
    RETURNS VOID LANGUAGE plpgsql AS $body$
    BEGIN
        IF old_subnet_id IS DISTINCT FROM new_subnet_id OR old_lease_type IS DISTINCT FROM new_lease_type
           OR old_state IS DISTINCT FROM new_state THEN
            PERFORM lease6_ADEL_lease6_stat(old_state, old_subnet_id, old_lease_type);
            PERFORM lease6_AINS_lease6_stat(new_state, new_subnet_id, new_lease_type);
        END IF;
    END
    $body$"""),
    _Object("routine", "lease6_ains_lease6_stat_by_client_class(bigint,text,smallint)", 6, """CREATE FUNCTION
    lease6_AINS_lease6_stat_by_client_class(new_state BIGINT, new_user_context TEXT, new_lease_type SMALLINT)
    RETURNS VOID LANGUAGE plpgsql AS $body$
    DECLARE
        classes JSON := json_cast(new_user_context) -> 'ISC' -> 'client-classes';
        class_name TEXT;
    BEGIN
        IF new_state = 0 AND new_lease_type IS NOT NULL AND json_typeof(classes) = 'array' THEN
            FOR class_name IN SELECT json_array_elements_text(classes) LOOP
                CONTINUE WHEN class_name IS NULL;
                INSERT INTO lease6_stat_by_client_class AS s (client_class, lease_type, leases)
                    VALUES (class_name, new_lease_type, 1)
                    ON CONFLICT (client_class, lease_type) DO UPDATE SET leases = s.leases + 1;
            END LOOP;
        END IF;
    END
    $body$"""),
    _Object("routine", "lease6_adel_lease6_stat_by_client_class(bigint,text,smallint)", 6, """CREATE FUNCTION
    lease6_ADEL_lease6_stat_by_client_class(old_state BIGINT, old_user_context TEXT, old_lease_type SMALLINT)
    RETURNS VOID LANGUAGE plpgsql AS $body$
    DECLARE
        classes JSON := json_cast(old_user_context) -> 'ISC' -> 'client-classes';
        class_name TEXT;
    BEGIN
        IF old_state = 0 AND json_typeof(classes) = 'array' THEN
            FOR class_name IN SELECT json_array_elements_text(classes) LOOP
                UPDATE lease6_stat_by_client_class SET leases = GREATEST(leases - 1, 0)
                    WHERE client_class = class_name AND lease_type = old_lease_type;
            END LOOP;
        END IF;
    END
    $body$"""),
    _Object("routine", "lease6_aupd_lease6_stat_by_client_class(bigint,text,smallint,bigint,text,smallint)", 6,
            """CREATE FUNCTION
    lease6_AUPD_lease6_stat_by_client_class(old_state BIGINT, old_user_context TEXT, old_lease_type SMALLINT,
                                            new_state BIGINT, new_user_context TEXT, new_lease_type SMALLINT)
    RETURNS VOID LANGUAGE plpgsql AS $body$
    BEGIN
        IF old_state IS DISTINCT FROM new_state OR old_lease_type IS DISTINCT FROM new_lease_type
           OR (json_cast(old_user_context) -> 'ISC' -> 'client-classes')::TEXT
              IS DISTINCT FROM (json_cast(new_user_context) -> 'ISC' -> 'client-classes')::TEXT THEN
            PERFORM lease6_ADEL_lease6_stat_by_client_class(old_state, old_user_context, old_lease_type);
            PERFORM lease6_AINS_lease6_stat_by_client_class(new_state, new_user_context, new_lease_type);
        END IF;
    END
    $body$"""),
]


def _pg_trigger(family: int, event: str) -> list[_Object]:
    """The trigger function func_leaseN_<EV>() and the trigger leaseN_<EV> calling it."""
    table, tag = f"lease{family}", {"INSERT": "AINS", "UPDATE": "AUPD", "DELETE": "ADEL"}[event]
    extra = ", NEW.lease_type" if family == 6 else ""
    old_extra = ", OLD.lease_type" if family == 6 else ""
    calls = {
        "AINS": (f"NEW.state, NEW.user_context{extra}", f"NEW.state, NEW.subnet_id{extra}"),
        "ADEL": (f"OLD.state, OLD.user_context{old_extra}", f"OLD.state, OLD.subnet_id{old_extra}"),
        "AUPD": (f"OLD.state, OLD.user_context{old_extra}, NEW.state, NEW.user_context{extra}",
                 f"OLD.state, OLD.subnet_id{old_extra}, NEW.state, NEW.subnet_id{extra}"),
    }[tag]
    function = f"""CREATE FUNCTION func_{table}_{tag}() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
        IF isJsonSupported() THEN
            PERFORM {table}_{tag}_{table}_stat_by_client_class({calls[0]});
        END IF;
        PERFORM {table}_{tag}_{table}_stat({calls[1]});
        RETURN NULL;
    END
    $body$"""
    trigger = (f"CREATE TRIGGER {table}_{tag} AFTER {event} ON {table} "
               f"FOR EACH ROW EXECUTE PROCEDURE func_{table}_{tag}()")
    return [_Object("routine", f"func_{table}_{tag.lower()}()", family, function),
            _Object("trigger", f"{table}_{tag.lower()}", family, trigger)]


_PG = _PG_TABLES + _PG_FUNCTIONS + _PG_STAT_ROUTINES + [
    obj for family in (4, 6) for event in ("INSERT", "UPDATE", "DELETE") for obj in _pg_trigger(family, event)
]


# === MySQL / MariaDB ===========================================================================
# Stored programs are sent one statement each (no DELIMITER needed through the driver).
# `IF(leases > 0, leases - 1, 0)`: the client-class counters are BIGINT UNSIGNED, where
# `leases - 1` at 0 is an out-of-range error rather than -1.

_MYSQL_TABLES = [
    _Object("table", "lease4_stat", 4, """CREATE TABLE IF NOT EXISTS lease4_stat (
        subnet_id INT UNSIGNED NOT NULL,
        state INT UNSIGNED NOT NULL,
        leases BIGINT,
        PRIMARY KEY (subnet_id, state)
    ) ENGINE = InnoDB"""),
    _Object("table", "lease6_stat", 6, """CREATE TABLE IF NOT EXISTS lease6_stat (
        subnet_id INT UNSIGNED NOT NULL,
        lease_type INT UNSIGNED NOT NULL,
        state INT UNSIGNED NOT NULL,
        leases BIGINT,
        PRIMARY KEY (subnet_id, lease_type, state)
    ) ENGINE = InnoDB"""),
    _Object("table", "lease4_stat_by_client_class", 4, """CREATE TABLE IF NOT EXISTS lease4_stat_by_client_class (
        client_class VARCHAR(128) NOT NULL PRIMARY KEY,
        leases BIGINT UNSIGNED NOT NULL
    ) ENGINE = InnoDB"""),
    _Object("table", "lease6_stat_by_client_class", 6, """CREATE TABLE IF NOT EXISTS lease6_stat_by_client_class (
        client_class VARCHAR(128) NOT NULL,
        lease_type TINYINT NOT NULL,
        leases BIGINT UNSIGNED NOT NULL,
        PRIMARY KEY (client_class, lease_type),
        CONSTRAINT fk_lease6_stat_by_client_class_lease_type FOREIGN KEY (lease_type)
            REFERENCES lease6_types (lease_type)
    ) ENGINE = InnoDB"""),
]


def _mysql_check_limits(family: int) -> str:
    kinds = ["address"] if family == 4 else ["address", "prefix"]

    def lease_type(kind: str) -> str:
        return "" if family == 4 else f" AND lease_type = {0 if kind == 'address' else 2}"

    class_checks = "".join(f"""
            SET lim = JSON_EXTRACT(item, '$."{kind}-limit"');
            IF lim IS NOT NULL THEN
                SET cnt = COALESCE((SELECT leases FROM lease{family}_stat_by_client_class
                                    WHERE client_class = class_name{lease_type(kind)}), 0);
                IF cnt >= lim THEN
                    RETURN CONCAT('{kind} limit ', lim, ' for client class "', class_name,
                                  '", current lease count ', cnt);
                END IF;
            END IF;""" for kind in kinds)
    subnet_checks = "".join(f"""
    SET lim = JSON_EXTRACT(user_context, '$.ISC.limits.subnet."{kind}-limit"');
    IF lim IS NOT NULL THEN
        SET cnt = COALESCE((SELECT leases FROM lease{family}_stat
                            WHERE subnet_id = sid{lease_type(kind)} AND state = 0), 0);
        IF cnt >= lim THEN
            RETURN CONCAT('{kind} limit ', lim, ' for subnet ID ', sid, ', current lease count ', cnt);
        END IF;
    END IF;""" for kind in kinds)
    return f"""CREATE FUNCTION checkLease{family}Limits(user_context TEXT) RETURNS TEXT
    NOT DETERMINISTIC READS SQL DATA
BEGIN
    DECLARE classes TEXT;
    DECLARE item TEXT;
    DECLARE class_name VARCHAR(255);
    DECLARE n INT DEFAULT 0;
    DECLARE i INT DEFAULT 0;
    DECLARE lim BIGINT;
    DECLARE cnt BIGINT;
    DECLARE sid BIGINT;
    IF user_context IS NULL OR NOT JSON_VALID(user_context) THEN
        RETURN '';
    END IF;
    SET classes = JSON_EXTRACT(user_context, '$.ISC.limits."client-classes"');
    IF JSON_TYPE(classes) = 'ARRAY' THEN
        SET n = JSON_LENGTH(classes);
    END IF;
    WHILE i < n DO
        SET item = JSON_EXTRACT(classes, CONCAT('$[', i, ']'));
        IF JSON_TYPE(item) = 'OBJECT' THEN
            SET class_name = JSON_UNQUOTE(JSON_EXTRACT(item, '$.name'));{class_checks}
        END IF;
        SET i = i + 1;
    END WHILE;
    SET sid = JSON_EXTRACT(user_context, '$.ISC.limits.subnet.id');{subnet_checks}
    RETURN '';
END"""


_MYSQL_FUNCTIONS = [
    _Object("routine", "isJsonSupported", 0, """CREATE FUNCTION isJsonSupported() RETURNS BOOL
    DETERMINISTIC NO SQL
BEGIN
    DECLARE probe INT;
    DECLARE CONTINUE HANDLER FOR SQLEXCEPTION RETURN FALSE;
    SET probe = JSON_EXTRACT('{"probe": 1}', '$.probe');
    RETURN TRUE;
END"""),
    _Object("routine", "checkLease4Limits", 0, _mysql_check_limits(4)),
    _Object("routine", "checkLease6Limits", 0, _mysql_check_limits(6)),
]


def _mysql_stat_routines(family: int) -> list[_Object]:
    t = f"lease{family}"
    v6 = family == 6
    key_cols = "subnet_id, lease_type, state" if v6 else "subnet_id, state"
    new_type = ", IN new_lease_type TINYINT" if v6 else ""
    old_type = ", IN old_lease_type TINYINT" if v6 else ""
    type_arg_new, type_arg_old = (", new_lease_type", ", old_lease_type") if v6 else ("", "")
    type_changed = " OR NOT (old_lease_type <=> new_lease_type)" if v6 else ""
    classes_path = "'$.ISC.\"client-classes\"'"
    class_key_new = ", lease_type" if v6 else ""
    class_val_new = ", new_lease_type" if v6 else ""
    class_where_old = " AND lease_type = old_lease_type" if v6 else ""
    routines = {
        "AINS_stat": f"""CREATE PROCEDURE {t}_AINS_{t}_stat(IN new_state INT UNSIGNED,
                                                    IN new_subnet_id INT UNSIGNED{new_type})
BEGIN
    IF new_state IN (0, 1) AND new_subnet_id IS NOT NULL{" AND new_lease_type IS NOT NULL" if v6 else ""} THEN
        INSERT INTO {t}_stat ({key_cols}, leases)
            VALUES (new_subnet_id{type_arg_new}, new_state, 1)
            ON DUPLICATE KEY UPDATE leases = COALESCE(leases, 0) + 1;
    END IF;
END""",
        "ADEL_stat": f"""CREATE PROCEDURE {t}_ADEL_{t}_stat(IN old_state INT UNSIGNED,
                                                    IN old_subnet_id INT UNSIGNED{old_type})
BEGIN
    IF old_state IN (0, 1) THEN
        UPDATE {t}_stat SET leases = IF(leases > 0, leases - 1, 0)
            WHERE subnet_id = old_subnet_id AND state = old_state{" AND lease_type = old_lease_type" if v6 else ""};
    END IF;
END""",
        "AUPD_stat": f"""CREATE PROCEDURE {t}_AUPD_{t}_stat(IN old_state INT UNSIGNED,
                                                    IN old_subnet_id INT UNSIGNED{old_type},
                                                    IN new_state INT UNSIGNED,
                                                    IN new_subnet_id INT UNSIGNED{new_type})
BEGIN
    IF NOT (old_subnet_id <=> new_subnet_id) OR NOT (old_state <=> new_state){type_changed} THEN
        CALL {t}_ADEL_{t}_stat(old_state, old_subnet_id{type_arg_old});
        CALL {t}_AINS_{t}_stat(new_state, new_subnet_id{type_arg_new});
    END IF;
END""",
        "AINS_stat_by_client_class": f"""CREATE PROCEDURE {t}_AINS_{t}_stat_by_client_class(
        IN new_state INT UNSIGNED, IN new_user_context TEXT{new_type})
BEGIN
    DECLARE classes TEXT;
    DECLARE class_name VARCHAR(255);
    DECLARE n INT DEFAULT 0;
    DECLARE i INT DEFAULT 0;
    IF new_state = 0 AND JSON_VALID(new_user_context){" AND new_lease_type IS NOT NULL" if v6 else ""} THEN
        SET classes = JSON_EXTRACT(new_user_context, {classes_path});
        IF JSON_TYPE(classes) = 'ARRAY' THEN
            SET n = JSON_LENGTH(classes);
        END IF;
        WHILE i < n DO
            SET class_name = JSON_UNQUOTE(JSON_EXTRACT(classes, CONCAT('$[', i, ']')));
            INSERT INTO {t}_stat_by_client_class (client_class{class_key_new}, leases)
                VALUES (class_name{class_val_new}, 1)
                ON DUPLICATE KEY UPDATE leases = leases + 1;
            SET i = i + 1;
        END WHILE;
    END IF;
END""",
        "ADEL_stat_by_client_class": f"""CREATE PROCEDURE {t}_ADEL_{t}_stat_by_client_class(
        IN old_state INT UNSIGNED, IN old_user_context TEXT{old_type})
BEGIN
    DECLARE classes TEXT;
    DECLARE class_name VARCHAR(255);
    DECLARE n INT DEFAULT 0;
    DECLARE i INT DEFAULT 0;
    IF old_state = 0 AND JSON_VALID(old_user_context) THEN
        SET classes = JSON_EXTRACT(old_user_context, {classes_path});
        IF JSON_TYPE(classes) = 'ARRAY' THEN
            SET n = JSON_LENGTH(classes);
        END IF;
        WHILE i < n DO
            SET class_name = JSON_UNQUOTE(JSON_EXTRACT(classes, CONCAT('$[', i, ']')));
            UPDATE {t}_stat_by_client_class SET leases = IF(leases > 0, leases - 1, 0)
                WHERE client_class = class_name{class_where_old};
            SET i = i + 1;
        END WHILE;
    END IF;
END""",
        "AUPD_stat_by_client_class": f"""CREATE PROCEDURE {t}_AUPD_{t}_stat_by_client_class(
        IN old_state INT UNSIGNED, IN old_user_context TEXT{old_type},
        IN new_state INT UNSIGNED, IN new_user_context TEXT{new_type})
BEGIN
    DECLARE old_classes TEXT;
    DECLARE new_classes TEXT;
    IF JSON_VALID(old_user_context) THEN
        SET old_classes = JSON_EXTRACT(old_user_context, {classes_path});
    END IF;
    IF JSON_VALID(new_user_context) THEN
        SET new_classes = JSON_EXTRACT(new_user_context, {classes_path});
    END IF;
    IF NOT (old_state <=> new_state) OR NOT (old_classes <=> new_classes){type_changed} THEN
        CALL {t}_ADEL_{t}_stat_by_client_class(old_state, old_user_context{type_arg_old});
        CALL {t}_AINS_{t}_stat_by_client_class(new_state, new_user_context{type_arg_new});
    END IF;
END""",
    }
    # helpers before their callers (MySQL does not check, but keep the order readable)
    return [_Object("routine", f"{t}_{name.split('_', 1)[0]}_{t}_{name.split('_', 1)[1]}", family, ddl)
            for name, ddl in routines.items()]


def _mysql_trigger(family: int, event: str) -> _Object:
    t, tag = f"lease{family}", {"INSERT": "AINS", "UPDATE": "AUPD", "DELETE": "ADEL"}[event]
    new_t, old_t = (", NEW.lease_type", ", OLD.lease_type") if family == 6 else ("", "")
    stat_args, class_args = {
        "AINS": (f"NEW.state, NEW.subnet_id{new_t}", f"NEW.state, NEW.user_context{new_t}"),
        "ADEL": (f"OLD.state, OLD.subnet_id{old_t}", f"OLD.state, OLD.user_context{old_t}"),
        "AUPD": (f"OLD.state, OLD.subnet_id{old_t}, NEW.state, NEW.subnet_id{new_t}",
                 f"OLD.state, OLD.user_context{old_t}, NEW.state, NEW.user_context{new_t}"),
    }[tag]
    return _Object("trigger", f"{t}_{tag}", family, f"""CREATE TRIGGER {t}_{tag} AFTER {event} ON {t}
FOR EACH ROW
BEGIN
    CALL {t}_{tag}_{t}_stat({stat_args});
    IF isJsonSupported() THEN
        CALL {t}_{tag}_{t}_stat_by_client_class({class_args});
    END IF;
END""")


_MYSQL = _MYSQL_TABLES + _MYSQL_FUNCTIONS + _mysql_stat_routines(4) + _mysql_stat_routines(6) + [
    _mysql_trigger(family, event) for family in (4, 6) for event in ("INSERT", "UPDATE", "DELETE")
]


# === SQLite ====================================================================================

_SQLITE_TABLES = [
    _Object("table", "lease4_stat", 4, """CREATE TABLE IF NOT EXISTS lease4_stat (
        subnet_id INTEGER NOT NULL, state INTEGER NOT NULL, leases INTEGER,
        PRIMARY KEY (subnet_id, state))"""),
    _Object("table", "lease6_stat", 6, """CREATE TABLE IF NOT EXISTS lease6_stat (
        subnet_id INTEGER NOT NULL, lease_type SMALLINT NOT NULL, state INTEGER NOT NULL, leases INTEGER,
        PRIMARY KEY (subnet_id, lease_type, state))"""),
    _Object("table", "lease4_stat_by_client_class", 4, """CREATE TABLE IF NOT EXISTS lease4_stat_by_client_class (
        client_class VARCHAR(128) NOT NULL PRIMARY KEY, leases INTEGER NOT NULL)"""),
    _Object("table", "lease6_stat_by_client_class", 6, """CREATE TABLE IF NOT EXISTS lease6_stat_by_client_class (
        client_class VARCHAR(128) NOT NULL,
        lease_type SMALLINT NOT NULL REFERENCES lease6_types (lease_type),
        leases INTEGER NOT NULL,
        PRIMARY KEY (client_class, lease_type))"""),
]


def _sqlite_trigger(family: int, event: str, narrowed: bool = False) -> _Object:
    """`narrowed` (revision 0005): the UPDATE trigger runs only when a counted column changed."""
    t, tag = f"lease{family}", {"INSERT": "ains", "UPDATE": "aupd", "DELETE": "adel"}[event]
    v6 = family == 6
    key = "subnet_id, lease_type, state" if v6 else "subnet_id, state"

    def ctx(row: str) -> str:
        return f"(CASE WHEN json_valid({row}.user_context) THEN {row}.user_context ELSE '{{}}' END)"

    def classes(row: str) -> str:
        return f"""json_each({ctx(row)}, '$.ISC."client-classes"')"""

    def is_array(row: str) -> str:
        return f"""json_type({ctx(row)}, '$.ISC."client-classes"') = 'array'"""

    def add(row: str, subnet_cond: str = "", class_cond: str = "") -> str:
        subnet_vals = f"{row}.subnet_id, {row}.lease_type, {row}.state" if v6 else f"{row}.subnet_id, {row}.state"
        class_cols, class_vals = ("client_class, lease_type", f"value, {row}.lease_type") if v6 else \
            ("client_class", "value")
        class_key = "client_class, lease_type" if v6 else "client_class"
        type_known = f" AND {row}.lease_type IS NOT NULL" if v6 else ""
        return f"""
    INSERT INTO {t}_stat ({key}, leases) SELECT {subnet_vals}, 1
        WHERE {row}.state IN (0, 1) AND {row}.subnet_id IS NOT NULL{type_known}{subnet_cond}
        ON CONFLICT ({key}) DO UPDATE SET leases = COALESCE(leases, 0) + 1;
    INSERT INTO {t}_stat_by_client_class ({class_cols}, leases) SELECT {class_vals}, 1 FROM {classes(row)}
        WHERE {row}.state = 0 AND {is_array(row)} AND value IS NOT NULL{type_known}{class_cond}
        ON CONFLICT ({class_key}) DO UPDATE SET leases = leases + 1;"""

    def remove(row: str, subnet_cond: str = "", class_cond: str = "") -> str:
        type_match = f" AND lease_type = {row}.lease_type" if v6 else ""
        return f"""
    UPDATE {t}_stat SET leases = MAX(COALESCE(leases, 0) - 1, 0)
        WHERE subnet_id = {row}.subnet_id AND state = {row}.state{type_match} AND {row}.state IN (0, 1){subnet_cond};
    UPDATE {t}_stat_by_client_class
        SET leases = MAX(leases - (SELECT COUNT(*) FROM {classes(row)} WHERE value = client_class), 0)
        WHERE {row}.state = 0 AND {is_array(row)}{type_match}
          AND client_class IN (SELECT value FROM {classes(row)}){class_cond};"""

    if tag == "ains":
        body = add("NEW")
    elif tag == "adel":
        body = remove("OLD")
    else:
        type_changed = " OR OLD.lease_type IS NOT NEW.lease_type" if v6 else ""
        subnet_cond = f" AND (OLD.subnet_id IS NOT NEW.subnet_id OR OLD.state IS NOT NEW.state{type_changed})"
        class_cond = (f" AND (OLD.state IS NOT NEW.state{type_changed}"
                      f""" OR json_extract({ctx('OLD')}, '$.ISC."client-classes"')"""
                      f""" IS NOT json_extract({ctx('NEW')}, '$.ISC."client-classes"'))""")
        body = remove("OLD", subnet_cond, class_cond) + add("NEW", subnet_cond, class_cond)
    when = ""
    if narrowed and tag == "aupd":
        counted = ["subnet_id", "state", "user_context", *(["lease_type"] if v6 else [])]
        event = f"UPDATE OF {', '.join(counted)}"
        when = " WHEN " + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in counted)
    return _Object("trigger", f"{t}_{tag}", family,
                   f"CREATE TRIGGER {t}_{tag} AFTER {event} ON {t} FOR EACH ROW{when} BEGIN{body}\nEND")


_SQLITE = _SQLITE_TABLES + [
    _sqlite_trigger(family, event) for family in (4, 6) for event in ("INSERT", "UPDATE", "DELETE")
]

_OBJECTS = {"postgresql": _PG, "mysql": _MYSQL, "sqlite": _SQLITE}


# === running it ================================================================================

def _exists(bind: sa.Connection, obj: _Object) -> bool:
    dialect = bind.dialect.name
    if obj.kind == "table":
        return sa.inspect(bind).has_table(obj.name)
    if dialect == "postgresql":
        if obj.kind == "routine":
            query = "SELECT to_regprocedure(:name) IS NOT NULL"
        else:
            query = ("SELECT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                     "WHERE NOT t.tgisinternal AND t.tgname = :name "
                     "AND c.relnamespace = to_regnamespace(current_schema()))")
    elif dialect == "mysql":
        if obj.kind == "routine":
            query = ("SELECT COUNT(*) > 0 FROM information_schema.routines "
                     "WHERE routine_schema = DATABASE() AND LOWER(routine_name) = LOWER(:name)")
        else:
            query = ("SELECT COUNT(*) > 0 FROM information_schema.triggers "
                     "WHERE trigger_schema = DATABASE() AND LOWER(trigger_name) = LOWER(:name)")
    else:
        query = "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = :kind AND name = :name"
    return bool(bind.execute(sa.text(query), {"name": obj.name, "kind": obj.kind}).scalar())


def _kea_schema_origin(bind: sa.Connection) -> str:
    t = schema.agent_state
    origin = bind.execute(sa.select(t.c.value).where(t.c.key == KEA_SCHEMA_ORIGIN_KEY)).scalar()
    if origin is not None:
        return str(origin)
    # databases migrated before the origin was recorded: Kea's own schema always has lease4_stat.
    # Recorded now, before any DDL: MySQL commits each DDL statement, and a run stopped after it
    # created lease4_stat (a lock wait given up, a crash) must not read as Kea's schema next time.
    origin = "kea" if sa.inspect(bind).has_table("lease4_stat") else "leasesync"
    bind.execute(t.insert(), [{"key": KEA_SCHEMA_ORIGIN_KEY, "value": origin}])
    return origin


def _client_classes(user_context: str | None) -> list[str]:
    try:
        ctx = json.loads(user_context) if user_context else None
    except ValueError:
        return []
    isc = ctx.get("ISC") if isinstance(ctx, dict) else None
    classes = isc.get("client-classes") if isinstance(isc, dict) else None
    return [c if isinstance(c, str) else json.dumps(c) for c in classes if c is not None] \
        if isinstance(classes, list) else []


def _recount(bind: sa.Connection, family: int) -> None:
    """Rebuild one family's stat tables from its leases (what the triggers would have counted)."""
    v6 = family == 6
    lease = schema.lease6 if v6 else schema.lease4
    subnet_keys = ["subnet_id", "lease_type", "state"] if v6 else ["subnet_id", "state"]
    bind.execute(sa.text(f"DELETE FROM lease{family}_stat"))
    bind.execute(sa.text(f"DELETE FROM lease{family}_stat_by_client_class"))
    cols = [lease.c[k] for k in subnet_keys]
    counted = bind.execute(
        sa.select(*cols, sa.func.count()).where(lease.c.state.in_([0, 1]), lease.c.subnet_id.isnot(None),
                                                *([lease.c.lease_type.isnot(None)] if v6 else []))
        .group_by(*cols)
    ).all()
    if counted:
        bind.execute(sa.text(f"INSERT INTO lease{family}_stat ({', '.join(subnet_keys)}, leases) "
                             f"VALUES ({', '.join(':' + k for k in subnet_keys)}, :leases)"),
                     [dict(zip([*subnet_keys, "leases"], row, strict=True)) for row in counted])
    per_class: Counter[tuple[str, int]] = Counter()
    type_col = lease.c.lease_type if v6 else sa.literal(0)
    for user_context, lease_type in bind.execute(
            sa.select(lease.c.user_context, type_col).where(lease.c.state == 0)):
        for name in _client_classes(user_context):
            if lease_type is not None:
                per_class[(name, int(lease_type))] += 1
    if per_class:
        if v6:
            bind.execute(sa.text("INSERT INTO lease6_stat_by_client_class (client_class, lease_type, leases) "
                                 "VALUES (:c, :t, :n)"),
                         [{"c": c, "t": lt, "n": n} for (c, lt), n in per_class.items()])
        else:
            bind.execute(sa.text("INSERT INTO lease4_stat_by_client_class (client_class, leases) VALUES (:c, :n)"),
                         [{"c": c, "n": n} for (c, _), n in per_class.items()])


def upgrade() -> None:
    bind = op.get_bind()
    check_kea_schema_version(bind)
    if _kea_schema_origin(bind) == "kea":
        return  # Kea's kea-admin made the lease schema: it is complete and not ours to change
    objects = _OBJECTS.get(bind.dialect.name)
    if objects is None:
        raise RuntimeError(f"leasesync has no lease schema for the {bind.dialect.name} database")
    for obj in objects:
        if obj.kind == "table":
            bind.exec_driver_sql(obj.ddl)  # CREATE TABLE IF NOT EXISTS
        elif not _exists(bind, obj):
            bind.exec_driver_sql(obj.ddl)
    # every family, not only those whose triggers this run created: on MySQL an earlier run that
    # stopped part-way (each DDL statement commits) may have left a family's triggers counting
    # from empty tables, its leases never counted
    for family in sorted({obj.family for obj in objects if obj.kind == "trigger"}):
        _recount(bind, family)


def downgrade() -> None:
    # Nothing: these objects belong to Kea's lease schema, which kea-dhcp4/kea-dhcp6 need as it is.
    pass
