/* tcpsocket.c — framing and protobuf of the 2019 TCP-socket API; see
 * tcpsocket.h. The protobuf work is protobuf-c's, over the code protoc-c
 * generates from tcpsocket.proto; this file maps it to nymkit's structs. */
#include <stdlib.h>
#include <string.h>

#include "proto/tcpsocket.h"
#include "proto/tcpsocket.pb-c.h"

int64_t
nym_tcpsocket_frame(const uint8_t *buf, size_t len, size_t max)
{
	uint64_t n = 0;
	if (len < NYM_TCPSOCKET_HEADER)
		return 0;
	for (int i = 0; i < NYM_TCPSOCKET_HEADER; i++)
		n = n << 8 | buf[i];
	if (n > max)
		return NYM_ETOOBIG;
	if (len - NYM_TCPSOCKET_HEADER < n)
		return 0;
	return (int64_t)(n + NYM_TCPSOCKET_HEADER);
}

int
nym_tcpsocket_req_decode(struct nym_tcpsocket_req *r, const uint8_t *in, size_t len)
{
	Tcpsocket__Request *q;
	memset(r, 0, sizeof *r);
	r->recipient_id = "";
	if (!(q = tcpsocket__request__unpack(NULL, len, in)))
		return NYM_EFORMAT;
	r->owned = q;
	switch (q->value_case) {
	case TCPSOCKET__REQUEST__VALUE_SEND:
		r->kind = NYM_TCPSOCKET_REQ_SEND;
		r->message = q->send->message.data;
		r->message_len = q->send->message.len;
		if (q->send->recipient) {
			r->has_recipient = 1;
			r->recipient_id = q->send->recipient->id ? q->send->recipient->id : "";
		}
		break;
	case TCPSOCKET__REQUEST__VALUE_FETCH: r->kind = NYM_TCPSOCKET_REQ_FETCH; break;
	case TCPSOCKET__REQUEST__VALUE_CLIENTS: r->kind = NYM_TCPSOCKET_REQ_CLIENTS; break;
	case TCPSOCKET__REQUEST__VALUE_DETAILS: r->kind = NYM_TCPSOCKET_REQ_DETAILS; break;
	case TCPSOCKET__REQUEST__VALUE_FLUSH: r->kind = NYM_TCPSOCKET_REQ_FLUSH; break;
	default: r->kind = NYM_TCPSOCKET_REQ_NONE; break;
	}
	return 0;
}

void
nym_tcpsocket_req_free(struct nym_tcpsocket_req *r)
{
	if (r->owned)
		tcpsocket__request__free_unpacked(r->owned, NULL);
	r->owned = NULL;
}

/* Header then body, in one allocation. */
static int
frame_out(uint8_t **out, size_t *len, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(NYM_TCPSOCKET_HEADER + n);
	if (!b)
		return NYM_ENOMEM;
	for (int i = 0; i < NYM_TCPSOCKET_HEADER; i++)
		b[i] = (uint8_t)((uint64_t)n >> (8 * (NYM_TCPSOCKET_HEADER - 1 - i)));
	protobuf_c_message_pack(m, b + NYM_TCPSOCKET_HEADER);
	*out = b;
	*len = NYM_TCPSOCKET_HEADER + n;
	return 0;
}

/* generated code takes char * for strings it only reads */
#define S(x) ((char *)((x) ? (x) : ""))

int
nym_tcpsocket_resp_encode(uint8_t **out, size_t *len, const struct nym_tcpsocket_resp *r)
{
	Tcpsocket__Response p = TCPSOCKET__RESPONSE__INIT;
	Tcpsocket__ResponseException ex = TCPSOCKET__RESPONSE_EXCEPTION__INIT;
	Tcpsocket__ResponseSendMessage sm = TCPSOCKET__RESPONSE_SEND_MESSAGE__INIT;
	Tcpsocket__ResponseFetchMessages fm = TCPSOCKET__RESPONSE_FETCH_MESSAGES__INIT;
	Tcpsocket__ResponseGetClients gc = TCPSOCKET__RESPONSE_GET_CLIENTS__INIT;
	Tcpsocket__ResponseOwnDetails od = TCPSOCKET__RESPONSE_OWN_DETAILS__INIT;
	Tcpsocket__ResponseFlush fl = TCPSOCKET__RESPONSE_FLUSH__INIT;
	Tcpsocket__ClientConfig cc = TCPSOCKET__CLIENT_CONFIG__INIT;
	Tcpsocket__MixConfig mc = TCPSOCKET__MIX_CONFIG__INIT;
	ProtobufCBinaryData *v = NULL;
	int e;

	switch (r->kind) {
	case NYM_TCPSOCKET_RESP_EXCEPTION:
		ex.error = S(r->error);
		p.value_case = TCPSOCKET__RESPONSE__VALUE_EXCEPTION;
		p.exception = &ex;
		break;
	case NYM_TCPSOCKET_RESP_SEND:
		p.value_case = TCPSOCKET__RESPONSE__VALUE_SEND;
		p.send = &sm;
		break;
	case NYM_TCPSOCKET_RESP_FETCH:
		if (r->n_messages && !(v = calloc(r->n_messages, sizeof *v)))
			return NYM_ENOMEM;
		for (size_t i = 0; i < r->n_messages; i++)
			v[i] = (ProtobufCBinaryData){r->message_lens[i], (uint8_t *)r->messages[i]};
		fm.n_messages = r->n_messages;
		fm.messages = v;
		p.value_case = TCPSOCKET__RESPONSE__VALUE_FETCH;
		p.fetch = &fm;
		break;
	case NYM_TCPSOCKET_RESP_CLIENTS:
		/* today's network publishes no client list (§3): always empty */
		p.value_case = TCPSOCKET__RESPONSE__VALUE_CLIENTS;
		p.clients = &gc;
		break;
	case NYM_TCPSOCKET_RESP_DETAILS:
		if (r->details) {
			const struct nym_tcpsocket_client *d = r->details;
			cc.id = S(d->id);
			if (d->pubkey)
				cc.pubkey = (ProtobufCBinaryData){32, (uint8_t *)d->pubkey};
			mc.id = S(d->provider_id);
			mc.host = S(d->provider_host);
			mc.port = S(d->provider_port);
			if (d->provider_key)
				mc.pubkey = (ProtobufCBinaryData){32, (uint8_t *)d->provider_key};
			cc.provider = &mc;
			od.details = &cc;
		}
		p.value_case = TCPSOCKET__RESPONSE__VALUE_DETAILS;
		p.details = &od;
		break;
	case NYM_TCPSOCKET_RESP_FLUSH:
		p.value_case = TCPSOCKET__RESPONSE__VALUE_FLUSH;
		p.flush = &fl;
		break;
	default:
		return NYM_EINVAL;
	}
	e = frame_out(out, len, &p.base);
	free(v);
	return e;
}

int
nym_tcpsocket_req_encode(uint8_t **out, size_t *len, int kind, const uint8_t *message,
    size_t message_len, const char *recipient_id)
{
	Tcpsocket__Request q = TCPSOCKET__REQUEST__INIT;
	Tcpsocket__RequestSendMessage sm = TCPSOCKET__REQUEST_SEND_MESSAGE__INIT;
	Tcpsocket__RequestFetchMessages fm = TCPSOCKET__REQUEST_FETCH_MESSAGES__INIT;
	Tcpsocket__RequestGetClients gc = TCPSOCKET__REQUEST_GET_CLIENTS__INIT;
	Tcpsocket__RequestOwnDetails od = TCPSOCKET__REQUEST_OWN_DETAILS__INIT;
	Tcpsocket__RequestFlush fl = TCPSOCKET__REQUEST_FLUSH__INIT;
	Tcpsocket__ClientConfig cc = TCPSOCKET__CLIENT_CONFIG__INIT;

	switch (kind) {
	case NYM_TCPSOCKET_REQ_NONE: break;
	case NYM_TCPSOCKET_REQ_SEND:
		sm.message = (ProtobufCBinaryData){message_len, (uint8_t *)message};
		if (recipient_id) {
			cc.id = S(recipient_id);
			sm.recipient = &cc;
		}
		q.value_case = TCPSOCKET__REQUEST__VALUE_SEND;
		q.send = &sm;
		break;
	case NYM_TCPSOCKET_REQ_FETCH: q.value_case = TCPSOCKET__REQUEST__VALUE_FETCH; q.fetch = &fm; break;
	case NYM_TCPSOCKET_REQ_CLIENTS: q.value_case = TCPSOCKET__REQUEST__VALUE_CLIENTS; q.clients = &gc; break;
	case NYM_TCPSOCKET_REQ_DETAILS: q.value_case = TCPSOCKET__REQUEST__VALUE_DETAILS; q.details = &od; break;
	case NYM_TCPSOCKET_REQ_FLUSH: q.value_case = TCPSOCKET__REQUEST__VALUE_FLUSH; q.flush = &fl; break;
	default: return NYM_EINVAL;
	}
	return frame_out(out, len, &q.base);
}

int
nym_tcpsocket_resp_decode(struct nym_tcpsocket_resp_owned *o, const uint8_t *in, size_t len)
{
	Tcpsocket__Response *p;
	memset(o, 0, sizeof *o);
	if (!(p = tcpsocket__response__unpack(NULL, len, in)))
		return NYM_EFORMAT;
	o->owned = p;
	switch (p->value_case) {
	case TCPSOCKET__RESPONSE__VALUE_EXCEPTION:
		o->r.kind = NYM_TCPSOCKET_RESP_EXCEPTION;
		o->r.error = p->exception->error ? p->exception->error : "";
		break;
	case TCPSOCKET__RESPONSE__VALUE_SEND: o->r.kind = NYM_TCPSOCKET_RESP_SEND; break;
	case TCPSOCKET__RESPONSE__VALUE_FETCH: {
		size_t n = p->fetch->n_messages;
		const uint8_t **m = calloc(n ? n : 1, sizeof *m);
		size_t *l = calloc(n ? n : 1, sizeof *l);
		if (!m || !l) {
			free(m);
			free(l);
			nym_tcpsocket_resp_free(o);
			return NYM_ENOMEM;
		}
		for (size_t i = 0; i < n; i++) {
			m[i] = p->fetch->messages[i].data;
			l[i] = p->fetch->messages[i].len;
		}
		/* one allocation would do; two keep the types plain */
		o->vec = m;
		o->r.messages = m;
		o->r.message_lens = l;
		o->r.n_messages = n;
		o->r.kind = NYM_TCPSOCKET_RESP_FETCH;
		break;
	}
	case TCPSOCKET__RESPONSE__VALUE_CLIENTS:
		o->r.kind = NYM_TCPSOCKET_RESP_CLIENTS;
		o->n_clients = p->clients->n_clients;
		break;
	case TCPSOCKET__RESPONSE__VALUE_DETAILS: {
		Tcpsocket__ClientConfig *c = p->details->details;
		o->r.kind = NYM_TCPSOCKET_RESP_DETAILS;
		if (c) {
			o->details.id = c->id;
			o->details.pubkey = c->pubkey.len == 32 ? c->pubkey.data : NULL;
			if (c->provider) {
				o->details.provider_id = c->provider->id;
				o->details.provider_host = c->provider->host;
				o->details.provider_port = c->provider->port;
				o->details.provider_key =
				    c->provider->pubkey.len == 32 ? c->provider->pubkey.data : NULL;
			}
			o->r.details = &o->details;
		}
		break;
	}
	case TCPSOCKET__RESPONSE__VALUE_FLUSH: o->r.kind = NYM_TCPSOCKET_RESP_FLUSH; break;
	default: o->r.kind = 0; break;
	}
	return 0;
}

void
nym_tcpsocket_resp_free(struct nym_tcpsocket_resp_owned *o)
{
	if (o->owned)
		tcpsocket__response__free_unpacked(o->owned, NULL);
	free(o->vec);
	free((void *)o->r.message_lens);
	memset(o, 0, sizeof *o);
}
