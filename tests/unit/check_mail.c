/* lib/mail without a database: templates, the RFC 5322 text, back-off. */
#include "http/json.h"
#include "mail/message.h"
#include "mail/sender.h"
#include "mail/template.h"
#include "suites.h"

#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- template trees in a temporary directory ---- */

static const char *const template_names[] = {
#define NAME(id, name) name,
    MAIL_TEMPLATES(NAME)
#undef NAME
};
#define N_TEMPLATES (sizeof template_names / sizeof template_names[0])

static const char *const langs[] = {"en", "ru"};

/* snprintf that fails the test rather than cut a path short. */
#define PATHF(buf, bufsz, ...)                                                                     \
	ck_assert_msg((size_t)snprintf(buf, bufsz, __VA_ARGS__) < (bufsz), "path too long")

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void write_text(const char *dir, const char *lang, const char *name, const char *text)
{
	char path[PATH_MAX];
	PATHF(path, sizeof path, "%s/%s/%s.txt", dir, lang, name);
	write_file(path, text, strlen(text));
}

/* A new directory with every template in en/ and ru/; each subject is
 * "Hi {{first_name}} (<lang>/<name>)" and each body names the file too. */
static void make_tree(char *dir, size_t dirsz)
{
	const char *tmp = getenv("TMPDIR");
	PATHF(dir, dirsz, "%s/check_mail.XXXXXX", tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s", dir);
	for (size_t l = 0; l < 2; l++) {
		char sub[PATH_MAX];
		PATHF(sub, sizeof sub, "%s/%s", dir, langs[l]);
		ck_assert_int_eq(mkdir(sub, 0700), 0);
		for (size_t i = 0; i < N_TEMPLATES; i++) {
			char text[512];
			snprintf(text, sizeof text,
				 "Subject: Hi {{first_name}} (%s/%s)\n\n"
				 "Dear {{first_name}} of {{company_name}},\n%s/%s\n",
				 langs[l], template_names[i], langs[l], template_names[i]);
			write_text(dir, langs[l], template_names[i], text);
		}
	}
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tree(const char *dir)
{
	ck_assert_int_eq(nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static const struct mail_var ann[] = {
    {"first_name", "Ann"},
    {"company_name", "Acme GmbH"},
};
#define N_ANN (sizeof ann / sizeof ann[0])

/* Renders and expects success; the caller frees both. */
static void render_ok(enum mail_template t, const char *lang, const struct mail_var *vars, size_t n,
		      char **subject, char **body)
{
	int rc = mail_render(t, lang, vars, n, subject, body);
	ck_assert_msg(rc == 0, "%s/%s did not render", lang ? lang : "(null)",
		      mail_template_name(t));
	ck_assert_ptr_nonnull(*subject);
	ck_assert_ptr_nonnull(*body);
}

static void render_fails(enum mail_template t, const char *lang, const struct mail_var *vars,
			 size_t n)
{
	char *subject = (char *)"unset", *body = (char *)"unset";
	ck_assert_int_eq(mail_render(t, lang, vars, n, &subject, &body), -1);
	ck_assert_ptr_null(subject);
	ck_assert_ptr_null(body);
}

static void load_ok(const char *dir)
{
	char err[512] = "";
	ck_assert_msg(mail_templates_load(dir, err, sizeof err) == 0, "load %s: %s", dir, err);
}

/* ---- names and languages ---- */

START_TEST(template_names_and_languages)
{
	ck_assert_str_eq(mail_template_name(MAIL_VERIFY_EMAIL), "verify_email");
	ck_assert_str_eq(mail_template_name(MAIL_ENROLLMENT_MORE_INFO),
			 "enrollment_more_info_requested");
	ck_assert_str_eq(mail_template_name(MAIL_TEMPLATE__COUNT), "unknown");
	ck_assert_str_eq(mail_template_name((enum mail_template) - 1), "unknown");
	ck_assert_str_eq(mail_template_name((enum mail_template)1000), "unknown");
	ck_assert(mail_language_known("en"));
	ck_assert(mail_language_known("ru"));
	ck_assert(!mail_language_known("de"));
	ck_assert(!mail_language_known("EN"));
	ck_assert(!mail_language_known("en "));
	ck_assert(!mail_language_known("e"));
	ck_assert(!mail_language_known(""));
	ck_assert(!mail_language_known(NULL));
}
END_TEST

/* ---- rendering ---- */

START_TEST(template_render_replaces)
{
	char dir[PATH_MAX], *subject, *body;
	make_tree(dir, sizeof dir);
	load_ok(dir);
	render_ok(MAIL_VERIFY_EMAIL, "en", ann, N_ANN, &subject, &body);
	ck_assert_str_eq(subject, "Hi Ann (en/verify_email)");
	ck_assert_str_eq(body, "Dear Ann of Acme GmbH,\nen/verify_email\n");
	free(subject);
	free(body);
	render_ok(MAIL_ENROLLMENT_REJECTED, "ru", ann, N_ANN, &subject, &body);
	ck_assert_str_eq(subject, "Hi Ann (ru/enrollment_rejected)");
	ck_assert_str_eq(body, "Dear Ann of Acme GmbH,\nru/enrollment_rejected\n");
	free(subject);
	free(body);
	/* vars in any order, extra vars ignored, UTF-8 values kept */
	const struct mail_var more[] = {
	    {"link", "https://example.com/x"},
	    {"company_name", "\xd0\x9e\xd0\x9e\xd0\x9e \xc2\xab\xd0\xa0\xc2\xbb"},
	    {"first_name", "\xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0"},
	};
	render_ok(MAIL_ENROLLMENT_IN_REVIEW, "ru", more, 3, &subject, &body);
	ck_assert_str_eq(subject, "Hi \xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0 (ru/enrollment_in_review)");
	ck_assert_str_eq(body, "Dear \xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0 of \xd0\x9e\xd0\x9e\xd0\x9e "
			       "\xc2\xab\xd0\xa0\xc2\xbb,\nru/enrollment_in_review\n");
	free(subject);
	free(body);
	/* a value longer than the template itself */
	char big[5000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	const struct mail_var large[] = {{"first_name", "A"}, {"company_name", big}};
	render_ok(MAIL_VERIFY_EMAIL, "en", large, 2, &subject, &body);
	ck_assert_uint_eq(strlen(body), strlen("Dear A of ,\nen/verify_email\n") + strlen(big));
	ck_assert_ptr_nonnull(strstr(body, big));
	free(subject);
	free(body);
	mail_templates_free();
	remove_tree(dir);
}
END_TEST

START_TEST(template_render_falls_back_to_en)
{
	char dir[PATH_MAX], *subject, *body;
	const char *others[] = {"de", "EN", "RU", "", "en-GB", NULL};
	make_tree(dir, sizeof dir);
	load_ok(dir);
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		render_ok(MAIL_ENROLLMENT_APPROVED, others[i], ann, N_ANN, &subject, &body);
		ck_assert_str_eq(subject, "Hi Ann (en/enrollment_approved)");
		free(subject);
		free(body);
	}
	mail_templates_free();
	remove_tree(dir);
}
END_TEST

START_TEST(template_render_missing_var)
{
	char dir[PATH_MAX];
	make_tree(dir, sizeof dir);
	load_ok(dir);
	render_fails(MAIL_VERIFY_EMAIL, "en", ann, 1);	   /* no company_name */
	render_fails(MAIL_VERIFY_EMAIL, "en", ann + 1, 1); /* no first_name */
	render_fails(MAIL_VERIFY_EMAIL, "ru", NULL, 0);
	/* keys match whole, in their case */
	const struct mail_var near[] = {
	    {"first_nam", "Ann"},     {"first_name_", "Ann"}, {"First_Name", "Ann"},
	    {"company_name", "Acme"}, {"", "empty"},	      {"{{first_name}}", "Ann"},
	};
	render_fails(MAIL_VERIFY_EMAIL, "en", near, sizeof near / sizeof near[0]);
	mail_templates_free();
	remove_tree(dir);
}
END_TEST

START_TEST(template_render_line_break_in_subject)
{
	char dir[PATH_MAX], *subject, *body;
	const char *hostile[] = {"Ann\r\nBcc: victim@example.org", "Ann\n", "\rAnn", "A\nB", "\n"};
	make_tree(dir, sizeof dir);
	load_ok(dir);
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		const struct mail_var vars[] = {{"first_name", hostile[i]},
						{"company_name", "Acme"}};
		render_fails(MAIL_VERIFY_EMAIL, "en", vars, 2);
		render_fails(MAIL_VERIFY_EMAIL, "ru", vars, 2);
	}
	/* only the subject must be one line: a body value may break lines */
	const struct mail_var vars[] = {{"first_name", "Ann"}, {"company_name", "Acme\nLtd"}};
	render_ok(MAIL_VERIFY_EMAIL, "en", vars, 2, &subject, &body);
	ck_assert_str_eq(body, "Dear Ann of Acme\nLtd,\nen/verify_email\n");
	free(subject);
	free(body);
	mail_templates_free();
	remove_tree(dir);
}
END_TEST

START_TEST(template_render_values_are_not_templates)
{
	char dir[PATH_MAX], *subject, *body;
	make_tree(dir, sizeof dir);
	load_ok(dir);
	const struct mail_var vars[] = {{"first_name", "{{company_name}}"},
					{"company_name", "{{first_name}}"}};
	render_ok(MAIL_VERIFY_EMAIL, "en", vars, 2, &subject, &body);
	ck_assert_str_eq(subject, "Hi {{company_name}} (en/verify_email)");
	ck_assert_str_eq(body, "Dear {{company_name}} of {{first_name}},\nen/verify_email\n");
	free(subject);
	free(body);
	/* a value naming an unknown key is text, not a missing var */
	const struct mail_var odd[] = {{"first_name", "{{nope}}"}, {"company_name", "{{"}};
	render_ok(MAIL_VERIFY_EMAIL, "en", odd, 2, &subject, &body);
	ck_assert_str_eq(subject, "Hi {{nope}} (en/verify_email)");
	free(subject);
	free(body);
	mail_templates_free();
	remove_tree(dir);
}
END_TEST

START_TEST(template_render_literal_braces)
{
	char dir[PATH_MAX], *subject, *body;
	make_tree(dir, sizeof dir);
	write_text(dir, "en", "enrollment_rejected",
		   "Subject: {x} and }} and {{first_name}}\n\n"
		   "a {single} b }} c {{company_name}} d {{ unclosed");
	write_text(dir, "ru", "enrollment_rejected", "Subject: {{first_name}}{{first_name}}\n\n");
	load_ok(dir);
	render_ok(MAIL_ENROLLMENT_REJECTED, "en", ann, N_ANN, &subject, &body);
	ck_assert_str_eq(subject, "{x} and }} and Ann");
	ck_assert_str_eq(body, "a {single} b }} c Acme GmbH d {{ unclosed");
	free(subject);
	free(body);
	render_ok(MAIL_ENROLLMENT_REJECTED, "ru", ann, N_ANN, &subject, &body);
	ck_assert_str_eq(subject, "AnnAnn");
	ck_assert_str_eq(body, "");
	free(subject);
	free(body);
	mail_templates_free();
	remove_tree(dir);
}
END_TEST

START_TEST(template_render_not_loaded)
{
	char dir[PATH_MAX], *subject, *body;
	render_fails(MAIL_VERIFY_EMAIL, "en", ann, N_ANN);
	mail_templates_free(); /* twice is harmless */
	mail_templates_free();
	make_tree(dir, sizeof dir);
	load_ok(dir);
	render_ok(MAIL_VERIFY_EMAIL, "en", ann, N_ANN, &subject, &body);
	free(subject);
	free(body);
	render_fails(MAIL_TEMPLATE__COUNT, "en", ann, N_ANN);
	render_fails((enum mail_template) - 1, "en", ann, N_ANN);
	mail_templates_free();
	render_fails(MAIL_VERIFY_EMAIL, "en", ann, N_ANN);
	remove_tree(dir);
}
END_TEST

START_TEST(template_reload_replaces)
{
	char a[PATH_MAX], b[PATH_MAX], *subject, *body;
	make_tree(a, sizeof a);
	make_tree(b, sizeof b);
	write_text(b, "en", "verify_email", "Subject: second {{first_name}}\n\nbody two\n");
	load_ok(a);
	load_ok(b); /* frees the first set */
	render_ok(MAIL_VERIFY_EMAIL, "en", ann, N_ANN, &subject, &body);
	ck_assert_str_eq(subject, "second Ann");
	ck_assert_str_eq(body, "body two\n");
	free(subject);
	free(body);
	mail_templates_free();
	remove_tree(a);
	remove_tree(b);
}
END_TEST

/* ---- load errors ---- */

START_TEST(template_load_missing_file)
{
	char dir[PATH_MAX], path[PATH_MAX], err[PATH_MAX + 200], *subject, *body;
	make_tree(dir, sizeof dir);
	load_ok(dir);
	PATHF(path, sizeof path, "%s/ru/enrollment_more_info_requested.txt", dir);
	ck_assert_int_eq(remove(path), 0);
	err[0] = '\0';
	ck_assert_int_eq(mail_templates_load(dir, err, sizeof err), -1);
	ck_assert_msg(strstr(err, path) != NULL, "'%s' does not name %s", err, path);
	/* the earlier set is gone too: nothing half-loaded stays */
	render_fails(MAIL_VERIFY_EMAIL, "en", ann, N_ANN);
	/* putting it back makes it load */
	write_file(path, "Subject: back\n\n", 15);
	load_ok(dir);
	render_ok(MAIL_ENROLLMENT_MORE_INFO, "ru", ann, N_ANN, &subject, &body);
	ck_assert_str_eq(subject, "back");
	free(subject);
	free(body);
	mail_templates_free();
	remove_tree(dir);
}
END_TEST

START_TEST(template_load_missing_dir)
{
	char err[512] = "";
	ck_assert_int_eq(mail_templates_load("/nonexistent/check_mail", err, sizeof err), -1);
	ck_assert_msg(strstr(err, "/nonexistent/check_mail/en/signup_verify.txt") != NULL,
		      "'%s' does not name the file", err);
	err[0] = '\0';
	ck_assert_int_eq(mail_templates_load("", err, sizeof err), -1);
	ck_assert_msg(strstr(err, "/en/signup_verify.txt") != NULL, "'%s'", err);
	render_fails(MAIL_VERIFY_EMAIL, "en", ann, N_ANN);
}
END_TEST

START_TEST(template_load_bad_header)
{
	static const struct {
		const char *text;
		size_t len;
	} bad[] = {
#define T(s) {s, sizeof s - 1}
	    T("Hello {{first_name}}\n\nbody\n"), /* no Subject line */
	    T(""),
	    T("\n\nbody"),
	    T("subject: lower case\n\nbody"),
	    T("SUBJECT: upper case\n\nbody"),
	    T("Subject:no space\n\nbody"),
	    T(" Subject: leading blank\n\nbody"),
	    T("Subject: \n\nbody"), /* empty subject */
	    T("Subject: no empty line\nbody\n"),
	    T("Subject: no line end"),
	    T("Subject: one line end\n"),
	    T("Subject: crlf\r\n\r\nbody\r\n"), /* CR */
	    T("Subject: cr in body\n\nline\rline\n"),
	    T("Subject: nul\n\nbody\0more\n"), /* NUL */
	    T("Subject: x\0\n\nbody\n"),
#undef T
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char dir[PATH_MAX], path[PATH_MAX], err[PATH_MAX + 200];
		make_tree(dir, sizeof dir);
		PATHF(path, sizeof path, "%s/ru/enrollment_approved.txt", dir);
		write_file(path, bad[i].text, bad[i].len);
		err[0] = '\0';
		ck_assert_msg(mail_templates_load(dir, err, sizeof err) == -1, "case %zu loaded",
			      i);
		ck_assert_msg(strstr(err, path) != NULL, "case %zu: '%s' does not name %s", i, err,
			      path);
		render_fails(MAIL_VERIFY_EMAIL, "en", ann, N_ANN);
		remove_tree(dir);
	}
}
END_TEST

START_TEST(template_load_subject_text)
{
	char dir[PATH_MAX], *subject, *body;
	make_tree(dir, sizeof dir);
	/* only the first "Subject: " is the prefix; the rest is text */
	write_text(dir, "en", "verify_email",
		   "Subject: Subject: x  \n\n\nSubject: not a header\n\n");
	load_ok(dir);
	render_ok(MAIL_VERIFY_EMAIL, "en", NULL, 0, &subject, &body);
	ck_assert_str_eq(subject, "Subject: x  ");
	ck_assert_str_eq(body, "\nSubject: not a header\n\n");
	free(subject);
	free(body);
	mail_templates_free();
	remove_tree(dir);
}
END_TEST

START_TEST(template_load_small_err_buffer)
{
	char dir[PATH_MAX], path[PATH_MAX], err[16];
	make_tree(dir, sizeof dir);
	PATHF(path, sizeof path, "%s/en/verify_email.txt", dir);
	write_file(path, "no subject\n\n", 12);
	memset(err, '#', sizeof err);
	ck_assert_int_eq(mail_templates_load(dir, err, sizeof err), -1);
	ck_assert_ptr_nonnull(memchr(err, '\0', sizeof err));
	ck_assert_int_eq(strncmp(err, path, strlen(err)), 0);
	remove_tree(dir);
}
END_TEST

START_TEST(template_load_size_limit)
{
	char dir[PATH_MAX], path[PATH_MAX], err[PATH_MAX + 200], *subject, *body;
	size_t big = 300 * 1024;
	char *text = malloc(big);
	ck_assert_ptr_nonnull(text);
	memcpy(text, "Subject: big\n\n", 14);
	memset(text + 14, 'x', big - 14);
	make_tree(dir, sizeof dir);
	PATHF(path, sizeof path, "%s/en/enrollment_in_review.txt", dir);
	write_file(path, text, big);
	ck_assert_int_eq(mail_templates_load(dir, err, sizeof err), -1);
	ck_assert_msg(strstr(err, path) != NULL, "'%s' does not name %s", err, path);
	/* 100 KiB is fine, and kept whole */
	write_file(path, text, 100 * 1024);
	load_ok(dir);
	render_ok(MAIL_ENROLLMENT_IN_REVIEW, "en", NULL, 0, &subject, &body);
	ck_assert_str_eq(subject, "big");
	ck_assert_uint_eq(strlen(body), 100 * 1024 - 14);
	free(subject);
	free(body);
	mail_templates_free();
	remove_tree(dir);
	free(text);
}
END_TEST

/* ---- the templates the service ships ---- */

/* lib/mail/templates of the source tree: $srcdir (make check sets it), else
 * the working directory. */
static void shipped_dir(char *out, size_t outsz)
{
	const char *src = getenv("srcdir");
	char probe[PATH_MAX];
	PATHF(out, outsz, "%s/lib/mail/templates", src != NULL && *src != '\0' ? src : ".");
	PATHF(probe, sizeof probe, "%s/en/verify_email.txt", out);
	if (access(probe, R_OK) != 0)
		PATHF(out, outsz, "lib/mail/templates");
}

static int has_non_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

START_TEST(shipped_templates_render)
{
	char dir[PATH_MAX];
	shipped_dir(dir, sizeof dir);
	load_ok(dir);
	const struct mail_var vars[] = {
	    {"first_name", "Ann"},
	    {"company_name", "Acme GmbH"},
	    {"link", "https://partners.example.com/verify?token=abc"},
	    {"reason", "The tax number does not match the company."},
	    {"domain", "acme.example"},
	    {"provider_name", "Distri AG"},
	    {"partner_name", "Distri AG"},
	    {"ends_on", "2027-01-31"},
	    {"days", "7"},
	    {"url", "https://hooks.acme.example/twotier"},
	    {"mpn_id", "1234567"},
	};
	for (size_t l = 0; l < 2; l++) {
		for (int t = 0; t < MAIL_TEMPLATE__COUNT; t++) {
			char *subject, *body, *text;
			size_t len;
			render_ok((enum mail_template)t, langs[l], vars,
				  sizeof vars / sizeof vars[0], &subject, &body);
			ck_assert_msg(strlen(subject) > 0, "%s/%s: empty subject", langs[l],
				      template_names[t]);
			ck_assert_msg(strstr(subject, "{{") == NULL && strstr(body, "{{") == NULL,
				      "%s/%s: a placeholder is left", langs[l], template_names[t]);
			/* every subject names the company, or the sign-up's domain */
			ck_assert_msg(strstr(subject, "Acme GmbH") != NULL ||
					  strstr(subject, "acme.example") != NULL,
				      "%s/%s: '%s'", langs[l], template_names[t], subject);
			/* a relationship's or an invitation's mail goes to a work
			 * account, not a person */
			ck_assert_msg(strstr(body, "Ann") != NULL ||
					  strncmp(template_names[t], "relationship", 12) == 0 ||
					  strcmp(template_names[t], "customer_invitation") == 0,
				      "%s/%s: no first name", langs[l], template_names[t]);
			ck_assert(json_utf8_valid(subject, strlen(subject)));
			ck_assert(json_utf8_valid(body, strlen(body)));
			if (l == 1)
				ck_assert_msg(has_non_ascii(subject), "ru/%s: '%s' is ASCII",
					      template_names[t], subject);
			else
				ck_assert_msg(!has_non_ascii(subject), "en/%s: '%s'",
					      template_names[t], subject);
			/* and each makes a mail */
			struct mail_message m = {"twotier <no-reply@example.com>",
						 "ann@example.org",
						 subject,
						 body,
						 "id@example.com",
						 1709251198};
			ck_assert_int_eq(mail_format(&m, &text, &len), 0);
			free(text);
			free(subject);
			free(body);
		}
	}
	/* the link reaches the verification mail, the reason the decisions */
	char *subject, *body;
	render_ok(MAIL_VERIFY_EMAIL, "ru", vars, 4, &subject, &body);
	ck_assert_ptr_nonnull(strstr(body, vars[2].value));
	free(subject);
	free(body);
	render_ok(MAIL_ENROLLMENT_REJECTED, "en", vars, 4, &subject, &body);
	ck_assert_ptr_nonnull(strstr(body, vars[3].value));
	free(subject);
	free(body);
	mail_templates_free();
}
END_TEST

START_TEST(shipped_templates_need_their_vars)
{
	char dir[PATH_MAX];
	shipped_dir(dir, sizeof dir);
	load_ok(dir);
	const struct mail_var names_only[] = {{"first_name", "Ann"}, {"company_name", "Acme"}};
	for (size_t l = 0; l < 2; l++) {
		render_fails(MAIL_VERIFY_EMAIL, langs[l], names_only, 2);	 /* no link */
		render_fails(MAIL_ENROLLMENT_REJECTED, langs[l], names_only, 2); /* no reason */
		/* no MPN ID, no reason */
		render_fails(MAIL_MPN_ASSOCIATION_REJECTED, langs[l], names_only, 2);
		render_fails(MAIL_ENROLLMENT_IN_REVIEW, langs[l], names_only, 1);
		/* no provider_name, no link */
		render_fails(MAIL_CUSTOMER_INVITATION, langs[l], names_only, 2);
	}
	mail_templates_free();
}
END_TEST

/* ---- the message text ---- */

static struct mail_message message(const char *subject, const char *body)
{
	struct mail_message m = {"Two Tier <no-reply@example.com>",
				 "ann@example.org",
				 subject,
				 body,
				 "0190f0e4-7c2a-7000-8000-000000000001@example.com",
				 1709251198}; /* Thu, 29 Feb 2024 23:59:58 UTC */
	return m;
}

static char *format_ok(const struct mail_message *m, size_t *len)
{
	char *text = NULL;
	ck_assert_int_eq(mail_format(m, &text, len), 0);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), *len);
	return text;
}

/* Every LF follows a CR and every CR precedes an LF. */
static void expect_crlf_only(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n')
			ck_assert_msg(i > 0 && text[i - 1] == '\r', "bare LF at %zu", i);
		if (text[i] == '\r')
			ck_assert_msg(i + 1 < len && text[i + 1] == '\n', "bare CR at %zu", i);
	}
}

/* The value of header name, folds kept, allocated; NULL when absent. */
static char *header(const char *text, const char *name)
{
	const char *end = strstr(text, "\r\n\r\n");
	size_t n = strlen(name);
	ck_assert_ptr_nonnull(end);
	for (const char *line = text; line < end + 2;) {
		const char *eol = strstr(line, "\r\n");
		if (strncmp(line, name, n) == 0 && line[n] == ':' && line[n + 1] == ' ') {
			const char *v = line + n + 2, *stop = eol;
			while (stop < end && stop[2] == ' ')
				stop = strstr(stop + 2, "\r\n");
			return strndup(v, (size_t)(stop - v));
		}
		line = eol + 2;
	}
	return NULL;
}

static void expect_header(const char *text, const char *name, const char *value)
{
	char *v = header(text, name);
	ck_assert_msg(v != NULL, "no %s header", name);
	ck_assert_str_eq(v, value);
	free(v);
}

/* Decodes a Subject value: plain text, or RFC 2047 B words of UTF-8, each
 * at most 75 bytes and each whole characters, joined by CRLF SP. */
static char *decode_subject(const char *v)
{
	static const char open[] = "=?UTF-8?B?";
	size_t cap = strlen(v) + 1, len = 0;
	char *out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	if (strncmp(v, "=?", 2) != 0) {
		ck_assert_ptr_null(strstr(v, "\r\n"));
		strcpy(out, v);
		return out;
	}
	for (const char *w = v;;) {
		const char *fold = strstr(w, "\r\n ");
		size_t wn = fold ? (size_t)(fold - w) : strlen(w);
		ck_assert_msg(wn <= 75, "a word of %zu bytes", wn);
		ck_assert_msg(wn > sizeof open - 1 + 2 && strncmp(w, open, sizeof open - 1) == 0 &&
				  strncmp(w + wn - 2, "?=", 2) == 0,
			      "'%.*s' is no encoded-word", (int)wn, w);
		unsigned char bin[80];
		size_t bn = 0;
		ck_assert_int_eq(sodium_base642bin(bin, sizeof bin, w + sizeof open - 1,
						   wn - (sizeof open - 1) - 2, NULL, &bn, NULL,
						   sodium_base64_VARIANT_ORIGINAL),
				 0);
		ck_assert_uint_le(len + bn + 1, cap);
		memcpy(out + len, bin, bn);
		len += bn;
		if (fold == NULL)
			break;
		w = fold + 3;
	}
	out[len] = '\0';
	return out;
}

/* Each encoded word of a Subject value decodes to valid UTF-8. */
static void expect_whole_characters(const char *v)
{
	for (const char *w = v; w != NULL;) {
		const char *fold = strstr(w, "\r\n ");
		size_t wn = fold ? (size_t)(fold - w) : strlen(w);
		unsigned char bin[80];
		size_t bn = 0;
		ck_assert_int_eq(sodium_base642bin(bin, sizeof bin, w + 10, wn - 12, NULL, &bn,
						   NULL, sodium_base64_VARIANT_ORIGINAL),
				 0);
		ck_assert_msg(json_utf8_valid((const char *)bin, bn), "'%.*s' splits a character",
			      (int)wn, w);
		w = fold ? fold + 3 : NULL;
	}
}

/* Formats subject and checks the Subject header gives it back exactly. */
static void expect_subject_round_trip(const char *subject, int plain)
{
	struct mail_message m = message(subject, "x\n");
	size_t len;
	char *text = format_ok(&m, &len);
	expect_crlf_only(text, len);
	char *v = header(text, "Subject");
	ck_assert_ptr_nonnull(v);
	if (plain)
		ck_assert_str_eq(v, subject);
	else
		ck_assert_msg(strncmp(v, "=?UTF-8?B?", 10) == 0, "'%s' is not encoded", v);
	char *back = decode_subject(v);
	ck_assert_str_eq(back, subject);
	free(back);
	free(v);
	free(text);
}

/* The body: base64 lines of at most 76 that decode to want. */
static void expect_body(const char *text, const char *want)
{
	const char *b = strstr(text, "\r\n\r\n");
	ck_assert_ptr_nonnull(b);
	b += 4;
	size_t n = strlen(b), len = 0;
	char *b64 = malloc(n + 1);
	ck_assert_ptr_nonnull(b64);
	for (const char *line = b; *line != '\0';) {
		const char *eol = strstr(line, "\r\n");
		ck_assert_msg(eol != NULL, "the body does not end in CRLF");
		size_t ln = (size_t)(eol - line);
		ck_assert_msg(ln > 0 && ln <= 76, "a base64 line of %zu", ln);
		ck_assert_uint_eq(strspn(line,
					 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					 "0123456789+/="),
				  ln);
		memcpy(b64 + len, line, ln);
		len += ln;
		line = eol + 2;
	}
	b64[len] = '\0';
	size_t bn = 0, wn = strlen(want);
	unsigned char *bin = malloc(len + 1);
	ck_assert_ptr_nonnull(bin);
	ck_assert_int_eq(sodium_base642bin(bin, len + 1, b64, len, NULL, &bn, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	ck_assert_uint_eq(bn, wn);
	ck_assert_int_eq(memcmp(bin, want, wn), 0);
	free(bin);
	free(b64);
}

/* s with each LF made CRLF, allocated. */
static char *crlf(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *o = out;
	ck_assert_ptr_nonnull(out);
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			*o++ = '\r';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

START_TEST(message_headers)
{
	struct mail_message m = message("Your enrolment", "Hello\n");
	size_t len;
	char *text = format_ok(&m, &len);
	expect_crlf_only(text, len);
	ck_assert_int_eq(strncmp(text, "Date: ", 6), 0);
	expect_header(text, "Date", "Thu, 29 Feb 2024 23:59:58 +0000");
	expect_header(text, "Message-ID", "<0190f0e4-7c2a-7000-8000-000000000001@example.com>");
	expect_header(text, "From", "Two Tier <no-reply@example.com>");
	expect_header(text, "To", "ann@example.org");
	expect_header(text, "Subject", "Your enrolment");
	expect_header(text, "MIME-Version", "1.0");
	expect_header(text, "Content-Type", "text/plain; charset=utf-8");
	expect_header(text, "Content-Transfer-Encoding", "base64");
	/* each once */
	ck_assert_ptr_null(strstr(strstr(text, "\r\nSubject: ") + 1, "\r\nSubject: "));
	ck_assert_ptr_null(strstr(strstr(text, "\r\nTo: ") + 1, "\r\nTo: "));
	expect_body(text, "Hello\r\n");
	free(text);
}
END_TEST

START_TEST(message_dates)
{
	static const struct {
		time_t t;
		const char *date;
	} cases[] = {
	    {0, "Thu, 01 Jan 1970 00:00:00 +0000"},
	    {951782400, "Tue, 29 Feb 2000 00:00:00 +0000"},
	    {1717545600, "Wed, 05 Jun 2024 00:00:00 +0000"},
	    {1717545600 + 86399, "Wed, 05 Jun 2024 23:59:59 +0000"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mail_message m = message("s", "b");
		size_t len;
		m.date = cases[i].t;
		char *text = format_ok(&m, &len);
		expect_header(text, "Date", cases[i].date);
		free(text);
	}
}
END_TEST

START_TEST(message_ascii_subject_plain)
{
	char s66[67], s67[68];
	memset(s66, 'a', 66);
	s66[66] = '\0';
	memset(s67, 'b', 67);
	s67[67] = '\0';
	expect_subject_round_trip("Your enrolment is approved", 1);
	expect_subject_round_trip("Acme's \"enrolment\" (100%) ~ [ok] <yes>; a=b?", 1);
	expect_subject_round_trip("", 1);
	expect_subject_round_trip(s66, 1);
	/* too long for one line, or looking like an encoded word: encoded */
	expect_subject_round_trip(s67, 0);
	expect_subject_round_trip("=?UTF-8?B?SGk=?=", 0);
	expect_subject_round_trip("a =? b", 0);
	char long_ascii[301];
	for (size_t i = 0; i < 300; i++)
		long_ascii[i] = (char)('a' + i % 26);
	long_ascii[300] = '\0';
	expect_subject_round_trip(long_ascii, 0);
}
END_TEST

/* "Подтвердите адрес электронной почты для регистрации ООО «Ромашка»" */
static const char russian[] =
    "\xd0\x9f\xd0\xbe\xd0\xb4\xd1\x82\xd0\xb2\xd0\xb5\xd1\x80\xd0\xb4\xd0\xb8\xd1\x82\xd0\xb5 "
    "\xd0\xb0\xd0\xb4\xd1\x80\xd0\xb5\xd1\x81 "
    "\xd1\x8d\xd0\xbb\xd0\xb5\xd0\xba\xd1\x82\xd1\x80\xd0\xbe\xd0\xbd\xd0\xbd\xd0\xbe\xd0\xb9 "
    "\xd0\xbf\xd0\xbe\xd1\x87\xd1\x82\xd1\x8b \xd0\xb4\xd0\xbb\xd1\x8f "
    "\xd1\x80\xd0\xb5\xd0\xb3\xd0\xb8\xd1\x81\xd1\x82\xd1\x80\xd0\xb0\xd1\x86\xd0\xb8\xd0\xb8 "
    "\xd0\x9e\xd0\x9e\xd0\x9e \xc2\xab\xd0\xa0\xd0\xbe\xd0\xbc\xd0\xb0\xd1\x88\xd0\xba\xd0\xb0"
    "\xc2\xbb";

START_TEST(message_utf8_subject_encoded)
{
	struct mail_message m = message(russian, "x\n");
	size_t len;
	char *text = format_ok(&m, &len);
	expect_crlf_only(text, len);
	char *v = header(text, "Subject");
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(strncmp(v, "=?UTF-8?B?", 10), 0);
	ck_assert_msg(strstr(v, "\r\n =?UTF-8?B?") != NULL, "'%s' is not folded", v);
	/* no raw 8-bit byte in the header block */
	for (const char *p = text; p < strstr(text, "\r\n\r\n"); p++)
		ck_assert_msg((unsigned char)*p < 0x80, "8-bit byte in the headers");
	expect_whole_characters(v);
	char *back = decode_subject(v);
	ck_assert_str_eq(back, russian);
	free(back);
	free(v);
	free(text);
	/* short UTF-8 is encoded too */
	expect_subject_round_trip("caf\xc3\xa9", 0);
	expect_subject_round_trip("\xd0\x94\xd0\xb0", 0);
}
END_TEST

/* Characters of 2, 3 and 4 bytes after 0..5 ASCII bytes: every word
 * boundary lands somewhere else, and none may split a character. */
START_TEST(message_subject_whole_characters)
{
	static const char *const chars[] = {"\xd0\x96", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
					    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"};
	for (size_t c = 0; c < sizeof chars / sizeof chars[0]; c++) {
		for (size_t prefix = 0; prefix <= 5; prefix++) {
			char subject[512];
			size_t n = 0;
			memset(subject, 'a', prefix);
			n = prefix;
			for (int k = 0; k < 40; k++) {
				memcpy(subject + n, chars[c], strlen(chars[c]));
				n += strlen(chars[c]);
			}
			subject[n] = '\0';
			struct mail_message m = message(subject, "x\n");
			size_t len;
			char *text = format_ok(&m, &len);
			char *v = header(text, "Subject");
			ck_assert_ptr_nonnull(v);
			expect_whole_characters(v);
			char *back = decode_subject(v);
			ck_assert_str_eq(back, subject);
			free(back);
			free(v);
			free(text);
		}
	}
}
END_TEST

START_TEST(message_body_base64)
{
	char exact[57 * 3 + 1], *big;
	memset(exact, 'q', sizeof exact - 1); /* 57 bytes make one line of 76 */
	exact[sizeof exact - 1] = '\0';
	big = malloc(20001);
	ck_assert_ptr_nonnull(big);
	for (size_t i = 0; i < 20000; i++)
		big[i] = i % 61 == 60 ? '\n' : (char)('A' + i % 26);
	big[20000] = '\0';
	const char *bodies[] = {
	    "Hello Ann,\n\nyour enrolment is approved.\n",
	    "",
	    "no line end",
	    "\n",
	    "\n\n\n",
	    exact,
	    "\xd0\x97\xd0\xb4\xd1\x80\xd0\xb0\xd0\xb2\xd1\x81\xd1\x82\xd0\xb2\xd1\x83\xd0\xb9\xd1"
	    "\x82\xd0\xb5!\n\n\xd0\x9a\xd0\xbe\xd0\xbc\xd0\xb0\xd0\xbd\xd0\xb4\xd0\xb0\n",
	    ".\n..\nFrom me\n", /* SMTP-special lines are safe in base64 */
	    big,
	};
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		struct mail_message m = message("s", bodies[i]);
		size_t len;
		char *text = format_ok(&m, &len);
		expect_crlf_only(text, len);
		char *want = crlf(bodies[i]);
		expect_body(text, want);
		free(want);
		free(text);
	}
	free(big);
}
END_TEST

START_TEST(message_header_injection)
{
	const char *hostile[] = {"a\rb",	"a\nb",	 "a\r\nBcc: victim@example.org",
				 "\n",		"\r",	 "a\tb",
				 "a\x7f",	"a\x01", "a\x1b[31m",
				 "trailing\r\n"};
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		for (int field = 0; field < 4; field++) {
			struct mail_message m = message("s", "b\n");
			char *text = (char *)"unset";
			size_t len = 99;
			if (field == 0)
				m.from = hostile[i];
			else if (field == 1)
				m.to = hostile[i];
			else if (field == 2)
				m.subject = hostile[i];
			else
				m.message_id = hostile[i];
			ck_assert_msg(mail_format(&m, &text, &len) == -1, "field %d took '%s'",
				      field, hostile[i]);
			ck_assert_ptr_null(text);
			ck_assert_uint_eq(len, 0);
		}
	}
}
END_TEST

START_TEST(message_null_fields)
{
	for (int field = 0; field < 5; field++) {
		struct mail_message m = message("s", "b\n");
		char *text = (char *)"unset";
		size_t len = 99;
		if (field == 0)
			m.from = NULL;
		else if (field == 1)
			m.to = NULL;
		else if (field == 2)
			m.subject = NULL;
		else if (field == 3)
			m.message_id = NULL;
		else
			m.body = NULL;
		ck_assert_msg(mail_format(&m, &text, &len) == -1, "field %d NULL", field);
		ck_assert_ptr_null(text);
		ck_assert_uint_eq(len, 0);
	}
}
END_TEST

/* ---- addresses ---- */

START_TEST(address_of)
{
	static const struct {
		const char *from, *address;
	} ok[] = {
	    {"Name <a@b.c>", "a@b.c"},
	    {"a@b.c", "a@b.c"},
	    {"twotier <no-reply@localhost>", "no-reply@localhost"},
	    {"<a@b.c>", "a@b.c"},
	    {"\"Doe, J <x>\" <j@d.e>", "j@d.e"},
	    {"\xd0\x9a\xd0\xbe\xd0\xbc\xd0\xb0\xd0\xbd\xd0\xb4\xd0\xb0 <team@example.ru>",
	     "team@example.ru"},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		char out[300];
		memset(out, '#', sizeof out);
		ck_assert_msg(mail_address_of(ok[i].from, out, sizeof out) == 0, "'%s'",
			      ok[i].from);
		ck_assert_str_eq(out, ok[i].address);
	}
	const char *none[] = {"Name", "", "<>", "Name <>", "Name <nobody>", "<", ">", " "};
	char out[300];
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
		ck_assert_msg(mail_address_of(none[i], out, sizeof out) == -1, "'%s'", none[i]);
	ck_assert_int_eq(mail_address_of(NULL, out, sizeof out), -1);
}
END_TEST

START_TEST(address_of_buffer)
{
	char out[6];
	ck_assert_int_eq(mail_address_of("Name <a@b.c>", out, 6), 0); /* 5 + NUL */
	ck_assert_str_eq(out, "a@b.c");
	memset(out, '#', sizeof out);
	ck_assert_int_eq(mail_address_of("Name <a@b.c>", out, 5), -1);
	ck_assert_int_eq(mail_address_of("a@b.c", out, 5), -1);
	ck_assert_int_eq(mail_address_of("a@b.c", out, 0), -1);
	ck_assert_int_eq(out[0], '#');
}
END_TEST

/* ---- back-off ---- */

START_TEST(backoff_bounds)
{
	/* base 30, max 3600: 30, 60, ... 1920, then 3600 for good */
	for (int attempt = 1; attempt <= 12; attempt++) {
		double full = fmin(30.0 * pow(2.0, attempt - 1), 3600.0);
		double lo = full, hi = 0;
		for (int i = 0; i < 2000; i++) {
			double d = mail_backoff(attempt, 30, 3600);
			ck_assert_msg(d >= 0.5 * full && d < full,
				      "attempt %d: %f outside [%f, %f)", attempt, d, 0.5 * full,
				      full);
			lo = fmin(lo, d);
			hi = fmax(hi, d);
		}
		/* the jitter covers its range */
		ck_assert_msg(lo < 0.55 * full && hi > 0.95 * full, "attempt %d: %f..%f", attempt,
			      lo, hi);
	}
}
END_TEST

/* The mean of many draws doubles from one attempt to the next. */
static double backoff_mean(int attempt, int base, int max)
{
	double sum = 0;
	for (int i = 0; i < 4000; i++)
		sum += mail_backoff(attempt, base, max);
	return sum / 4000;
}

START_TEST(backoff_doubles_then_caps)
{
	double prev = backoff_mean(1, 10, 100000);
	ck_assert_msg(fabs(prev - 7.5) < 0.3, "mean %f", prev);
	for (int attempt = 2; attempt <= 10; attempt++) {
		double mean = backoff_mean(attempt, 10, 100000);
		ck_assert_msg(fabs(mean / prev - 2.0) < 0.15, "attempt %d: %f after %f", attempt,
			      mean, prev);
		prev = mean;
	}
	/* capped */
	for (int attempt = 8; attempt <= 64; attempt++)
		for (int i = 0; i < 100; i++) {
			double d = mail_backoff(attempt, 30, 3600);
			ck_assert(d >= 1800 && d < 3600);
		}
	/* huge attempts do not overflow into inf or NaN */
	const int huge[] = {100, 1024, 2000, INT_MAX};
	for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
		double d = mail_backoff(huge[i], 30, 3600);
		ck_assert_msg(isfinite(d) && d >= 1800 && d < 3600, "attempt %d: %f", huge[i], d);
	}
}
END_TEST

START_TEST(backoff_edges)
{
	/* attempt 0 or below counts as the first */
	for (int i = 0; i < 200; i++) {
		double d0 = mail_backoff(0, 30, 3600), dn = mail_backoff(-5, 30, 3600);
		ck_assert(d0 >= 15 && d0 < 30);
		ck_assert(dn >= 15 && dn < 30);
	}
	/* base above max: max */
	for (int i = 0; i < 200; i++) {
		double d = mail_backoff(1, 5000, 3600);
		ck_assert(d >= 1800 && d < 3600);
	}
	ck_assert(mail_backoff(3, 0, 3600) == 0);
	ck_assert(mail_backoff(3, 30, 0) == 0);
}
END_TEST

/* ---- regressions ---- */

/* Bug found: a subject that is not valid UTF-8 and ends inside a multi-byte
 * sequence ("Hi \xd0") made the encoder step over the terminating NUL and
 * read past the string. */
START_TEST(message_subject_truncated_utf8)
{
	const char *subjects[] = {"Hi \xd0",	  "\xe2\x82",	 "\xf0",   "\xf0\x9f\x98",
				  "\x80",	  "\xff",	 "ab\xbf", "\xe2\x82\xac\xe2",
				  "\xd0\x96\xf8", "\xc0\xaf\xfe"};
	for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
		/* on the heap, exactly sized, so ASan sees a read past the end */
		char *s = strdup(subjects[i]);
		ck_assert_ptr_nonnull(s);
		struct mail_message m = message(s, "x\n");
		char *text = NULL;
		size_t len = 0;
		if (mail_format(&m, &text, &len) == 0) {
			char *v = header(text, "Subject");
			ck_assert_ptr_nonnull(v);
			char *back = decode_subject(v);
			ck_assert_msg(strcmp(back, s) == 0, "case %zu changed", i);
			free(back);
			free(v);
		}
		free(text);
		free(s);
	}
}
END_TEST

/* RFC 2047 §2: a line holding an encoded-word is at most 76 long, the
 * first one ("Subject: " and a word) too; a bare CR in the body does not
 * become a line end of its own. */
START_TEST(message_lines_and_body_cr)
{
	struct mail_message m = message(russian, "a\r\nb\n");
	size_t len;
	char *text = format_ok(&m, &len);
	const char *end = strstr(text, "\r\n\r\n");
	for (const char *line = text; line < end;) {
		const char *eol = strstr(line, "\r\n");
		ck_assert_msg(eol - line <= 76, "a header line of %d", (int)(eol - line));
		line = eol + 2;
	}
	unsigned char bin[64];
	size_t n = 0;
	char b64[128];
	snprintf(b64, sizeof b64, "%.*s", (int)strcspn(end + 4, "\r"), end + 4);
	ck_assert_int_eq(sodium_base642bin(bin, sizeof bin, b64, strlen(b64), NULL, &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	ck_assert_int_eq((int)n, 6);
	ck_assert_int_eq(memcmp(bin, "a\r\nb\r\n", 6), 0);
	free(text);
	char out[64];
	ck_assert_int_eq(mail_address_of("Name <a@b.c", out, sizeof out), -1);
}
END_TEST

static TCase *mail_regressions(void)
{
	TCase *tc = tcase_create("regressions");
	tcase_add_test(tc, message_subject_truncated_utf8);
	tcase_add_test(tc, message_lines_and_body_cr);
	return tc;
}

Suite *mail_suite(void)
{
	Suite *s = suite_create("mail");
	TCase *tpl = tcase_create("template");
	tcase_add_test(tpl, template_names_and_languages);
	tcase_add_test(tpl, template_render_replaces);
	tcase_add_test(tpl, template_render_falls_back_to_en);
	tcase_add_test(tpl, template_render_missing_var);
	tcase_add_test(tpl, template_render_line_break_in_subject);
	tcase_add_test(tpl, template_render_values_are_not_templates);
	tcase_add_test(tpl, template_render_literal_braces);
	tcase_add_test(tpl, template_render_not_loaded);
	tcase_add_test(tpl, template_reload_replaces);
	tcase_add_test(tpl, template_load_missing_file);
	tcase_add_test(tpl, template_load_missing_dir);
	tcase_add_test(tpl, template_load_bad_header);
	tcase_add_test(tpl, template_load_subject_text);
	tcase_add_test(tpl, template_load_small_err_buffer);
	tcase_add_test(tpl, template_load_size_limit);
	tcase_add_test(tpl, shipped_templates_render);
	tcase_add_test(tpl, shipped_templates_need_their_vars);
	suite_add_tcase(s, tpl);

	TCase *msg = tcase_create("message");
	tcase_add_test(msg, message_headers);
	tcase_add_test(msg, message_dates);
	tcase_add_test(msg, message_ascii_subject_plain);
	tcase_add_test(msg, message_utf8_subject_encoded);
	tcase_add_test(msg, message_subject_whole_characters);
	tcase_add_test(msg, message_body_base64);
	tcase_add_test(msg, message_header_injection);
	tcase_add_test(msg, message_null_fields);
	tcase_add_test(msg, address_of);
	tcase_add_test(msg, address_of_buffer);
	suite_add_tcase(s, msg);

	TCase *backoff = tcase_create("backoff");
	tcase_add_test(backoff, backoff_bounds);
	tcase_add_test(backoff, backoff_doubles_then_caps);
	tcase_add_test(backoff, backoff_edges);
	suite_add_tcase(s, backoff);
	suite_add_tcase(s, mail_regressions());
	return s;
}
