/* aes.c — the two backends of aes.h: OpenSSL EVP natively, BearSSL's
 * constant-time aes_ct64 with -DNYM_AES_BEARSSL (the WebAssembly build). */
#include <stdlib.h>
#include <string.h>

#include "crypto/aes.h"

#define MODE_BLOCK 1
#define MODE_CTR 2

#ifndef NYM_AES_BEARSSL
/* ---- OpenSSL ------------------------------------------------------------- */
#include <openssl/evp.h>

const char *
nym_aes_backend(void)
{
	return "openssl";
}

int
nym_aes_block_init(struct nym_aes *c, const uint8_t *key, size_t keylen)
{
	memset(c, 0, sizeof *c);
	c->mode = MODE_BLOCK;
	c->ctx = EVP_CIPHER_CTX_new();
	c->cipher = EVP_CIPHER_fetch(NULL, keylen == 16 ? "AES-128-ECB" : "AES-256-ECB", NULL);
	if (!c->ctx || !c->cipher || (keylen != 16 && keylen != 32) ||
	    !EVP_EncryptInit_ex2(c->ctx, c->cipher, key, NULL, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(c->ctx, 0)) {
		nym_aes_free(c);
		return NYM_ECRYPTO;
	}
	return 0;
}

int
nym_aes_block_rekey(struct nym_aes *c, const uint8_t *key, size_t keylen)
{
	if (c->mode != MODE_BLOCK || (size_t)EVP_CIPHER_get_key_length(c->cipher) != keylen ||
	    !EVP_EncryptInit_ex2(c->ctx, NULL, key, NULL, NULL))
		return NYM_ECRYPTO;
	return 0;
}

int
nym_aes_block(struct nym_aes *c, uint8_t *out, const uint8_t *in, size_t n)
{
	int outl = 0;
	if (n > (1u << 26) || !EVP_EncryptUpdate(c->ctx, out, &outl, in, (int)(16 * n)) ||
	    outl != (int)(16 * n))
		return NYM_ECRYPTO;
	return 0;
}

int
nym_aes_ctr_init(struct nym_aes *c)
{
	memset(c, 0, sizeof *c);
	c->mode = MODE_CTR;
	c->ctx = EVP_CIPHER_CTX_new();
	c->cipher = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
	if (!c->ctx || !c->cipher || !EVP_EncryptInit_ex2(c->ctx, c->cipher, NULL, NULL, NULL)) {
		nym_aes_free(c);
		return NYM_ECRYPTO;
	}
	return 0;
}

int
nym_aes_ctr_xor(struct nym_aes *c, uint8_t *out, const uint8_t *in, size_t len,
                const uint8_t key[16], const uint8_t iv[16])
{
	/* Re-keying keeps the cipher fetched at init: no allocation. */
	if (c->mode != MODE_CTR || !EVP_EncryptInit_ex2(c->ctx, NULL, key, iv, NULL))
		return NYM_ECRYPTO;
	for (size_t done = 0; done < len;) {
		size_t left = len - done;
		int chunk = left > (1u << 30) ? 1 << 30 : (int)left, n = 0;
		if (!EVP_EncryptUpdate(c->ctx, out + done, &n, in + done, chunk) || n != chunk)
			return NYM_ECRYPTO;
		done += (size_t)chunk;
	}
	return 0;
}

void
nym_aes_free(struct nym_aes *c)
{
	EVP_CIPHER_CTX_free(c->ctx); /* also wipes the key schedule */
	EVP_CIPHER_free(c->cipher);
	c->ctx = c->cipher = NULL;
	c->mode = 0;
}

#else
/* ---- BearSSL (aes_ct64: bitsliced, constant time) ------------------------ */
#include <bearssl_block.h>

/* Wipes that the compiler may not drop. */
static void
wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;
	while (n--)
		*v++ = 0;
}

const char *
nym_aes_backend(void)
{
	return "bearssl";
}

int
nym_aes_block_init(struct nym_aes *c, const uint8_t *key, size_t keylen)
{
	memset(c, 0, sizeof *c);
	if (keylen != 16 && keylen != 32)
		return NYM_ECRYPTO;
	if (!(c->ctx = calloc(1, sizeof(br_aes_ct64_cbcenc_keys))))
		return NYM_ENOMEM;
	c->mode = MODE_BLOCK;
	br_aes_ct64_cbcenc_init(c->ctx, key, keylen);
	return 0;
}

int
nym_aes_block_rekey(struct nym_aes *c, const uint8_t *key, size_t keylen)
{
	if (c->mode != MODE_BLOCK || (keylen != 16 && keylen != 32))
		return NYM_ECRYPTO;
	br_aes_ct64_cbcenc_init(c->ctx, key, keylen);
	return 0;
}

int
nym_aes_block(struct nym_aes *c, uint8_t *out, const uint8_t *in, size_t n)
{
	/* One-block CBC with a zero IV is the block function. */
	uint8_t iv[16];
	if (c->mode != MODE_BLOCK)
		return NYM_ECRYPTO;
	for (size_t i = 0; i < n; i++) {
		memset(iv, 0, sizeof iv);
		if (out != in)
			memcpy(out + 16 * i, in + 16 * i, 16);
		br_aes_ct64_cbcenc_run(c->ctx, iv, out + 16 * i, 16);
	}
	wipe(iv, sizeof iv);
	return 0;
}

int
nym_aes_ctr_init(struct nym_aes *c)
{
	memset(c, 0, sizeof *c);
	if (!(c->ctx = calloc(1, sizeof(br_aes_ct64_ctr_keys))))
		return NYM_ENOMEM;
	c->mode = MODE_CTR;
	return 0;
}

int
nym_aes_ctr_xor(struct nym_aes *c, uint8_t *out, const uint8_t *in, size_t len,
                const uint8_t key[16], const uint8_t iv[16])
{
	/* BearSSL counts in the last 32 bits only: cut at each wrap of them and
	 * carry into the 96-bit head by hand. */
	uint8_t head[12];
	uint32_t cc;
	if (c->mode != MODE_CTR)
		return NYM_ECRYPTO;
	br_aes_ct64_ctr_init(c->ctx, key, 16);
	memcpy(head, iv, 12);
	cc = (uint32_t)iv[12] << 24 | (uint32_t)iv[13] << 16 | (uint32_t)iv[14] << 8 | iv[15];
	if (out != in)
		memmove(out, in, len);
	while (len > 0) {
		uint64_t blocks = (uint64_t)UINT32_MAX + 1 - cc; /* before the wrap */
		size_t seg = len;
		if (blocks < ((uint64_t)len + 15) / 16)
			seg = (size_t)blocks * 16;
		cc = br_aes_ct64_ctr_run(c->ctx, head, cc, out, seg);
		out += seg, len -= seg;
		if (len > 0 && cc == 0)
			for (int i = 11; i >= 0 && ++head[i] == 0; i--)
				;
	}
	wipe(head, sizeof head);
	return 0;
}

void
nym_aes_free(struct nym_aes *c)
{
	if (c->ctx) {
		wipe(c->ctx, c->mode == MODE_CTR ? sizeof(br_aes_ct64_ctr_keys) : sizeof(br_aes_ct64_cbcenc_keys));
		free(c->ctx);
	}
	c->ctx = c->cipher = NULL;
	c->mode = 0;
}
#endif
