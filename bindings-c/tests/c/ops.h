/* One conformance op (tests/vectors/README.md) run through the C ABI. */
#ifndef TC_TEST_OPS_H
#define TC_TEST_OPS_H

#include <cJSON.h>

#include "json_raw.h"
#include "signer_daemon.h"
#include "trustcore.h"

typedef struct outcome {
    tc_status status;  /* TC_OK, or the error's code */
    char message[256]; /* the error's message, for the report only (codes are compared) */
    cJSON *result;     /* on TC_OK: the result object; the caller deletes it */
} outcome;

/* Run `op` on `input` (parsed) whose raw text is `input_raw`. An unknown op or a vector field of the
 * wrong type is reported as TC_INTERNAL with a message, so the case fails loudly. */
outcome run_op(const char *op, const cJSON *input, raw_span input_raw);

/* The signer ops (`signer_exchange`, `signer_call`) against the live daemon started for the file, whose
 * tokens are parsed with `issuer_public_hex`. As cli/tests/conformance/signer.rs: the outcome is
 * {"id" (exchange only), "result", and for a result with a token "token_authority_source",
 * "token_root_key_id"}, or the signer's error code. */
outcome run_signer_op(const signer_daemon *daemon, const char *issuer_public_hex, const char *op,
                      const cJSON *input, raw_span input_raw);

/* Multiply every time budget by `scale` (for slow runs such as valgrind's; 0 budgets stay 0). */
void set_time_scale(double scale);

/* Take an error's status and message into `out`, then free the error. */
void take_error(outcome *out, tc_status status, tc_error *err);

/* The Biscuit samples' `authorize`: raw token bytes, code, no time fact, default limits, extern
 * function "test"; the token's revocation ids must equal `want_ids`. */
outcome run_biscuit_sample(const tc_issuer_keys *root, const unsigned char *token, size_t token_len, const char *code,
                           const cJSON *want_ids);

#endif
