/* Mail texts: template files <dir>/<language>/<name>.txt, read once at
 * start. A file is a "Subject: ..." line, an empty line, and the body;
 * {{key}} in either is replaced by the value given for key. */
#ifndef TWOTIER_MAIL_TEMPLATE_H
#define TWOTIER_MAIL_TEMPLATE_H

#include <stddef.h>

/* Every mail the service sends; each must exist in every language. */
#define MAIL_TEMPLATES(X)                                                                          \
	X(MAIL_SIGNUP_VERIFY, "signup_verify")                                                     \
	X(MAIL_VERIFY_EMAIL, "verify_email")                                                       \
	X(MAIL_ENROLLMENT_IN_REVIEW, "enrollment_in_review")                                       \
	X(MAIL_ENROLLMENT_APPROVED, "enrollment_approved")                                         \
	X(MAIL_ENROLLMENT_REJECTED, "enrollment_rejected")                                         \
	X(MAIL_ENROLLMENT_MORE_INFO, "enrollment_more_info_requested")                             \
	X(MAIL_RELATIONSHIP_INVITATION, "relationship_invitation")                                 \
	X(MAIL_RELATIONSHIP_ACCESS_REMOVED, "relationship_access_removed")                         \
	X(MAIL_RELATIONSHIP_ENDED, "relationship_ended")                                           \
	X(MAIL_CUSTOMER_INVITATION, "customer_invitation")                                         \
	X(MAIL_PASSWORD_RESET, "password_reset")                                                   \
	X(MAIL_PASSWORD_CHANGED, "password_changed")                                               \
	X(MAIL_MFA_ENABLED, "mfa_enabled")                                                         \
	X(MAIL_MFA_DISABLED, "mfa_disabled")                                                       \
	X(MAIL_RELATIONSHIP_AUTHORIZED, "relationship_authorized")                                 \
	X(MAIL_RELATIONSHIP_CUSTOMER_ACCEPTED, "relationship_customer_accepted")                   \
	X(MAIL_RELATIONSHIP_CUSTOMER_ENDED, "relationship_customer_ended")                         \
	X(MAIL_RELATIONSHIP_ACCESS_EXPIRING, "relationship_access_expiring")                       \
	X(MAIL_WEBHOOK_DISABLED, "webhook_disabled")                                               \
	X(MAIL_RELATIONSHIP_INVITATION_DECLINED, "relationship_invitation_declined")               \
	X(MAIL_RELATIONSHIP_SUSPENDED, "relationship_suspended")                                   \
	X(MAIL_RELATIONSHIP_ACCESS_REQUEST, "relationship_access_request")                         \
	X(MAIL_RELATIONSHIP_ACCESS_REQUEST_ACCEPTED, "relationship_access_request_accepted")       \
	X(MAIL_RELATIONSHIP_ACCESS_REQUEST_DECLINED, "relationship_access_request_declined")       \
	X(MAIL_MPN_ASSOCIATION_REJECTED, "mpn_association_rejected")

enum mail_template {
#define MAIL_TEMPLATE_ENUM(id, name) id,
	MAIL_TEMPLATES(MAIL_TEMPLATE_ENUM)
#undef MAIL_TEMPLATE_ENUM
	    MAIL_TEMPLATE__COUNT
};

/* The languages mail is written in; the first is the default. */
#define MAIL_LANGUAGES "en ru"

/* True for a language of MAIL_LANGUAGES ("en"). */
int mail_language_known(const char *lang);
const char *mail_template_name(enum mail_template t);

/* Reads every template of every language from dir. Call once before
 * threads start. Returns 0, or -1 with the file and the reason in err. */
int mail_templates_load(const char *dir, char *err, size_t errsz);
void mail_templates_free(void);

struct mail_var {
	const char *key, *value;
};

/* Renders template t in lang with vars (n of them). *subject and *body are
 * allocated (caller frees). Returns 0, or -1 when the templates are not
 * loaded, a placeholder has no value, or the subject would hold CR or LF. */
int mail_render(enum mail_template t, const char *lang, const struct mail_var *vars, size_t n,
		char **subject, char **body);

#endif
