/* The README's C quick start: mint a token, sign a request as the holder, then verify it as a
 * service would (authenticate, then check_policy). Build: cc quickstart.c $(pkg-config --cflags --libs trustcore) */
#include <stdio.h>
#include <string.h>

#include <trustcore.h>

/* Print the failure and say whether there was one. */
static int failed(tc_status status, tc_error *err, const char *what) {
    if (status == TC_OK) return 0;
    fprintf(stderr, "%s: %s: %s\n", what, tc_status_name(status), tc_error_message(err));
    tc_error_free(err);
    return 1;
}

int main(void) {
    tc_error *err = NULL;
    tc_issuer_key *issuer = NULL;
    tc_worker_key *holder = NULL;
    tc_issuer_keys *trusted = NULL;
    tc_bytes *token = NULL;
    tc_proof *proof = NULL;
    tc_token *verified = NULL;
    tc_identity *who = NULL;
    int rc = 1;

    /* the issuer (normally the signer daemon) mints a token bound to the holder's public key */
    char issuer_hex[TC_KEY_HEX_SIZE], holder_hex[TC_KEY_HEX_SIZE];
    size_t len = 0;
    if (failed(tc_issuer_key_generate(&issuer, &err), err, "issuer key") ||
        failed(tc_worker_key_generate(&holder, &err), err, "holder key") ||
        failed(tc_issuer_key_public_hex(issuer, issuer_hex, sizeof issuer_hex, &len, &err), err, "issuer hex") ||
        failed(tc_worker_key_public_hex(holder, holder_hex, sizeof holder_hex, &len, &err), err, "holder hex"))
        goto out;
    double now = tc_now_seconds();
    tc_str lanes[] = {{"transcribe", 10}};
    tc_mint_fact facts[] = {{"lane", 4, lanes, 1}};
    tc_mint_request mint = {holder_hex, 64, "gpu-1", 5, facts, 1, {true, "rev-1", 5}, now + 3600, {false, 0}, 0};
    if (failed(tc_mint_biscuit(issuer, &mint, &token, &err), err, "mint")) goto out;

    /* the holder signs one request */
    const char *body = "{\"job\":42}";
    tc_request request = {"POST", 4, "/lease", 6, (const uint8_t *)body, strlen(body)};
    char timestamp[32];
    snprintf(timestamp, sizeof timestamp, "%.0f", now);
    if (failed(tc_make_proof(holder, (const char *)tc_bytes_data(token), tc_bytes_len(token), &request, timestamp,
                             strlen(timestamp), "nonce-1", 7, &proof, &err),
               err, "proof"))
        goto out;

    /* the service verifies it with the issuer's public key only */
    tc_authenticate_options options = {now, 300, tc_limits_default()};
    tc_pair request_facts[] = {{"req_operation", 13, "lease", 5}};
    const char *allow = "allow if req_operation(\"lease\"), lane(\"transcribe\")";
    if (failed(tc_issuer_keys_from_hex(issuer_hex, 64, &trusted, &err), err, "trusted key") ||
        failed(tc_authenticate(trusted, proof, &request, NULL, 0, &options, &verified, &who, &err), err,
               "authenticate") ||
        failed(tc_check_policy(verified, request_facts, 1, allow, strlen(allow), now, NULL, &err), err, "policy"))
        goto out;
    printf("allowed: holder %s\n", tc_identity_holder_id(who).ptr);
    rc = 0;
out:
    tc_identity_free(who);
    tc_token_free(verified);
    tc_issuer_keys_free(trusted);
    tc_proof_free(proof);
    tc_bytes_free(token);
    tc_worker_key_free(holder);
    tc_issuer_key_free(issuer);
    return rc;
}
