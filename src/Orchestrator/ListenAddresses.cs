using System.Net;
using Orchestrator.Actors.Settings;

namespace Orchestrator;

/// <summary>
/// Where Kestrel will listen, worked out before it binds, so that a service about to be reachable from other machines
/// with the published <see cref="AuthSettings.WellKnownKey"/> refuses to start instead.
/// </summary>
public static class ListenAddresses
{
    /// <summary>
    /// Kestrel's own order: endpoints in the <c>Kestrel:Endpoints</c> configuration section win; else the URLs
    /// (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, <c>DOTNET_URLS</c>: all read as <c>urls</c>); else
    /// <c>orchestrator.http.listen</c>, which the host passes to Kestrel as its URL (so <c>HTTP_PORTS</c> never applies).
    /// </summary>
    public static IReadOnlyList<string> Resolve(IConfiguration configuration, Uri listen)
    {
        var endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren()
            .Select(e => e["Url"]).OfType<string>().Where(u => u.Length > 0).ToList();
        if (endpoints.Count > 0) return endpoints;
        var urls = configuration["urls"];
        return string.IsNullOrWhiteSpace(urls)
            ? [listen.ToString().TrimEnd('/')]
            : urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>
    /// Only this machine can connect: <c>localhost</c>, a loopback IP (127.0.0.0/8, ::1), or a Unix socket or named
    /// pipe. Everything else is reachable from elsewhere: <c>0.0.0.0</c>, <c>[::]</c>, <c>*</c>, <c>+</c>, another IP,
    /// and any other host name (Kestrel binds those to every interface). A URL Kestrel could not parse counts as not loopback.
    /// </summary>
    public static bool IsLoopback(string url)
    {
        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return false;
        }
        if (address.IsUnixPipe || address.IsNamedPipe) return true;
        if (address.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
    }

    /// <summary>Throws <see cref="InvalidConfigException"/> when the well-known key would be accepted off loopback.</summary>
    public static void RefuseWellKnownKeyOffLoopback(AuthSettings auth, IReadOnlyList<string> addresses)
    {
        if (!auth.HasWellKnownKey) return;
        var exposed = addresses.Where(a => !IsLoopback(a)).ToList();
        if (exposed.Count == 0) return;
        throw new InvalidConfigException("orchestrator.auth.keys",
            $"the published key {AuthSettings.WellKnownKey} is only accepted while the service listens on loopback, and it would listen on " +
            $"{string.Join(", ", exposed)}. Give your clients real keys instead: create one with " +
            "`dotnet run --project src/Orchestrator -- keys create --name NAME --credit 5` (or POST /admin/keys with an admin key, " +
            $"orchestrator.admin.keys), or list your own keys in orchestrator.auth.keys; and remove {AuthSettings.WellKnownKey} from " +
            "orchestrator.auth.keys in your config file (e.g. auth.keys = [] when every client uses a created key).");
    }
}
