/* amqp_admin.h — broker plumbing tests need and daemons never do: declaring and deleting a
 * private queue bound to an exchange, and reading a queue without a consumer. Uses the admin
 * URL ($UDC_AMQP_URL). Fails the running test on any error. */
#ifndef UDC_TEST_AMQP_ADMIN_H
#define UDC_TEST_AMQP_ADMIN_H

#include <stddef.h>

/* Declares a durable quorum queue `name` bound to exchange with binding_key. */
void amqp_admin_declare_bound_queue(const char *name, const char *exchange,
                                    const char *binding_key);
void amqp_admin_delete_queue(const char *name);

/* One message got from a queue with basic.get. */
struct amqp_admin_message {
    char *body;
    size_t len;
    char message_id[128];
    char error_header[512]; /* x-udc-error, "" when absent */
};

/* Gets up to max messages from queue; each is acked when keep(msg, ctx) returns 1 and
 * requeued otherwise. Returns how many were kept. */
size_t amqp_admin_drain(const char *queue, size_t max,
                        int (*keep)(const struct amqp_admin_message *msg, void *ctx), void *ctx);

#endif
