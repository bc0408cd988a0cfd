#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void must(tc_status status, tc_error *err, const char *what) {
    if (status == TC_OK) return;
    fprintf(stderr, "fixture: %s failed: %s (%s)\n", what, tc_status_name(status), tc_error_message(err));
    tc_error_free(err);
    abort();
}

void fixture_init(fixture *f) {
    tc_error *err = NULL;
    static const char issuer_seed[] = "1111111111111111111111111111111111111111111111111111111111111111";
    static const char worker_seed[] = "2222222222222222222222222222222222222222222222222222222222222222";
    memset(f, 0, sizeof *f);
    must(tc_issuer_key_from_secret_hex(S(issuer_seed), &f->issuer, &err), err, "issuer key");
    must(tc_worker_key_from_secret_hex(S(worker_seed), &f->worker, &err), err, "worker key");

    char issuer_hex[TC_KEY_HEX_SIZE], worker_hex[TC_KEY_HEX_SIZE];
    size_t len = 0;
    must(tc_issuer_key_public_hex(f->issuer, issuer_hex, sizeof issuer_hex, &len, &err), err, "issuer hex");
    must(tc_worker_key_public_hex(f->worker, worker_hex, sizeof worker_hex, &len, &err), err, "worker hex");
    must(tc_issuer_keys_from_hex(issuer_hex, len, &f->trusted, &err), err, "trusted keys");

    const tc_str lanes[] = {{S("transcribe")}, {S("gpu")}};
    const tc_mint_fact facts[] = {{S("lane"), lanes, 2}};
    tc_mint_request mint = {
        .public_hex = worker_hex,
        .public_hex_len = strlen(worker_hex),
        .holder_id = "gpu-1",
        .holder_id_len = 5,
        .facts = facts,
        .facts_count = 1,
        .revocation_id = {true, "rev-1", 5},
        .expires_at = FIXTURE_NOW + 3600,
    };
    must(tc_mint_biscuit(f->issuer, &mint, &f->token_b64, &err), err, "mint");

    static const unsigned char body[] = "{}";
    f->request = (tc_request){S("POST"), S("/lease"), body, 2};
    must(tc_make_proof(f->worker, (const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64), &f->request,
                       S("1700000000"), S("n1"), &f->proof, &err),
         err, "proof");
    f->limits = tc_limits_default();
    const char *scale = getenv("TRUSTCORE_TEST_TIME_SCALE");
    if (scale && strtod(scale, NULL) > 0)
        f->limits.max_time_ns = (uint64_t)((double)f->limits.max_time_ns * strtod(scale, NULL));
    f->options = (tc_authenticate_options){FIXTURE_NOW, 300, f->limits};
}

void fixture_free(fixture *f) {
    tc_proof_free(f->proof);
    tc_bytes_free(f->token_b64);
    tc_issuer_keys_free(f->trusted);
    tc_worker_key_free(f->worker);
    tc_issuer_key_free(f->issuer);
    memset(f, 0, sizeof *f);
}
