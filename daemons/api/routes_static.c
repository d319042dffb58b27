/* routes_static.c — the web page (www_dir) and the OpenAPI document. */
#include "api.h"

static int serve_page(struct udc_http_request *req, void *userdata)
{
    struct api *api = userdata;
    const char *rest = udc_http_param(req, "path");
    return udc_http_serve_static(req, api->cfg->api.www_dir, rest ? rest : "");
}

static int serve_openapi(struct udc_http_request *req, void *userdata)
{
    struct api *api = userdata;
    return udc_http_serve_static(req, api->cfg->api.www_dir, "openapi.json");
}

int api_routes_static(struct udc_http_server *s, struct api *api)
{
    return udc_http_route(s, "GET", "/", serve_page, api) ||
           udc_http_route(s, "GET", "/{path*}", serve_page, api) ||
           udc_http_route(s, "GET", "/api/openapi.json", serve_openapi, api);
}
