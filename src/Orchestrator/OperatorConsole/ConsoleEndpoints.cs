using System.Collections.Frozen;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Orchestrator.OperatorConsole;

/// <summary>
/// The operator console: one page (<c>GET /</c>, <c>GET /console</c>) and its script and style, embedded in the
/// binary (no build step, no CDN: it works offline), and its live feed under the admin group, so the admin key
/// guards the data while the page itself holds none. Outside the concurrency limit: an overloaded relay is exactly
/// when the operator wants to look.
/// </summary>
public static class ConsoleEndpoints
{
    public const string FeedPath = "/console/events";

    private static readonly FrozenDictionary<string, (byte[] Body, string ContentType)> Assets = new Dictionary<string, (byte[], string)>
    {
        ["index.html"] = (Read("index.html"), "text/html; charset=utf-8"),
        ["console.css"] = (Read("console.css"), "text/css; charset=utf-8"),
        ["console.js"] = (Read("console.js"), "text/javascript; charset=utf-8"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static IServiceCollection AddOperatorConsole(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<LiveCounters>();
        services.AddSingleton<ConsoleFeed>();
        return services;
    }

    public static IEndpointRouteBuilder MapConsoleEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", () => Asset("index.html")).DisableRateLimiting();
        endpoints.MapGet("/console", () => Asset("index.html")).DisableRateLimiting();
        endpoints.MapGet("/console/console.css", () => Asset("console.css")).DisableRateLimiting();
        endpoints.MapGet("/console/console.js", () => Asset("console.js")).DisableRateLimiting();
        return endpoints;
    }

    /// <summary><c>GET /admin/console/events</c>, on the admin group (<see cref="Http.AdminEndpoints.MapAdminGroup"/>).</summary>
    public static RouteGroupBuilder MapConsoleFeed(this RouteGroupBuilder admin)
    {
        admin.MapGet(FeedPath, (HttpContext http, ConsoleFeed feed) => feed.RunAsync(http)).DisableRateLimiting();
        return admin;
    }

    private static IResult Asset(string name)
    {
        var (body, contentType) = Assets[name];
        return new AssetResult(body, contentType);
    }

    private static byte[] Read(string name)
    {
        using var stream = typeof(ConsoleEndpoints).Assembly.GetManifestResourceStream("console/" + name)
            ?? throw new InvalidOperationException($"The console's {name} is not embedded in the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>
    /// The page's own policy: its script and style only, from this origin, and fetch() to this origin (the feed). A
    /// value shown on the page is set as text, never as markup, so a provider's error text cannot run as script.
    /// </summary>
    private sealed class AssetResult(byte[] body, string contentType) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            var headers = http.Response.Headers;
            headers.ContentType = contentType;
            headers.CacheControl = "no-cache";
            headers.XContentTypeOptions = "nosniff";
            headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
            headers["Referrer-Policy"] = "no-referrer";
            http.Response.ContentLength = body.Length;
            return http.Response.Body.WriteAsync(body, http.RequestAborted).AsTask();
        }
    }
}
