/* Metrics: counters land in the right series, histogram buckets are
 * cumulative in the exposition, and metrics_listen parses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_api_metrics.h"
#include "vh_unused.h"
#include "vh_metrics.h"

static void
test_render(void **state VH_UNUSED)
{
	struct vh_metrics_gauges g = { .open_connections = 3, .db_ok = true,
	    .jobs_queued = 2, .blob_files = 5, .blob_bytes = 1000 };
	int	 slot = vh_metrics_route("GET", "/healthz");
	char	*s;
	size_t	 len;

	vh_metrics_reset();
	assert_int_equal(vh_metrics_route("GET", "/healthz"), slot);
	vh_metrics_request(slot, 200, 2000);		/* 2 ms */
	vh_metrics_request(slot, 200, 300000);		/* 0.3 s */
	vh_metrics_request(slot, 599, 1);
	vh_metrics_request(0, 404, 1);
	vh_metrics_add(VH_METRIC_LOGIN_FAILURES, 2);
	vh_metrics_refusal(VH_LIMIT_WITHDRAW);
	vh_metrics_media(1, VH_OUTCOME_READY, 1500000);
	s = vh_metrics_render(&g, &len);
	assert_int_equal(strlen(s), len);
#define HAS(x) assert_non_null(strstr(s, x "\n"))
	HAS("verhaal_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2");
	HAS("verhaal_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"other\"} 1");
	HAS("verhaal_http_requests_total{method=\"\",route=\"unmatched\",status=\"404\"} 1");
	HAS("verhaal_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.005\"} 2");
	HAS("verhaal_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.25\"} 2");
	HAS("verhaal_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.5\"} 3");
	HAS("verhaal_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"} 3");
	HAS("verhaal_http_open_connections 3");
	HAS("verhaal_login_failures_total 2");
	HAS("verhaal_rate_limit_refusals_total{limit=\"withdraw\"} 1");
	HAS("verhaal_rate_limit_refusals_total{limit=\"login\"} 0");
	HAS("verhaal_media_processing_duration_seconds_count{family=\"audio\",outcome=\"ready\"} 1");
	HAS("verhaal_jobs{state=\"queued\"} 2");
	HAS("verhaal_blob_bytes 1000");
	HAS("verhaal_db_pool_wait_seconds_count 0");
	free(s);
	g.db_ok = false;
	s = vh_metrics_render(&g, &len);
	HAS("verhaal_metrics_database_up 0");
	assert_null(strstr(s, "verhaal_jobs{"));
	free(s);
}

static void
test_listen(void **state VH_UNUSED)
{
	char	host[64];
	int	port;

	assert_int_equal(vh_api_metrics_parse_listen("127.0.0.1:9108", host,
	    sizeof host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9108);
	assert_int_equal(vh_api_metrics_parse_listen("[::1]:0", host,
	    sizeof host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 0);
	for (const char **bad = (const char *[]){ "127.0.0.1", ":9108",
	    "::1:9108", "127.0.0.1:", "127.0.0.1:70000", "[::1]9108", NULL };
	    *bad != NULL; bad++)
		assert_int_not_equal(vh_api_metrics_parse_listen(*bad, host,
		    sizeof host, &port), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_listen),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
