/* The schema version this build expects: the number of the newest file in
 * sql/. /readyz answers 503 until the database is migrated to it. */
#ifndef TWOTIER_SCHEMA_H
#define TWOTIER_SCHEMA_H

#define TWOTIER_SCHEMA_VERSION 11

#endif
