#ifndef QLINK_CZEROMQ_SHIM_H
#define QLINK_CZEROMQ_SHIM_H

#include <zmq.h>
#include <errno.h>
#include <stdlib.h>

/* libzmq 4.3.4 implements ZMQ_ZAP_ENFORCE_DOMAIN but the stable zmq.h only
 * declares it under ZMQ_BUILD_DRAFT_API. The value is fixed by the library. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

static const int qlink_zmq_zap_enforce_domain = ZMQ_ZAP_ENFORCE_DOMAIN;

/* zmq_msg_t is 64 opaque bytes that must never be copied or moved once
 * initialised. These helpers let Swift keep it on the heap at a stable address. */
static inline zmq_msg_t *qlink_zmq_msg_alloc(void) {
    return (zmq_msg_t *)calloc(1, sizeof(zmq_msg_t));
}
static inline void qlink_zmq_msg_free(zmq_msg_t *msg) { free(msg); }

static inline int qlink_errno(void) { return errno; }

#endif
