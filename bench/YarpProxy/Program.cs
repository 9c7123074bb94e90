using System.Net;
using Yarp.ReverseProxy.Forwarder;

// The floor: a bare YARP pass-through (no routes config, no transforms, no header rewriting beyond YARP's own),
// with the same Kestrel defaults as the relay. Usage: YarpProxy --urls http://127.0.0.1:PORT --destination http://127.0.0.1:MOCK
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
builder.Services.AddHttpForwarder();
var destination = builder.Configuration["destination"]
    ?? throw new ArgumentException("--destination http://HOST:PORT is required");

// What YARP's own docs recommend for a forwarder's client: no proxy, redirects, cookies, decompression or tracing headers.
var invoker = new HttpMessageInvoker(new SocketsHttpHandler
{
    UseProxy = false,
    AllowAutoRedirect = false,
    AutomaticDecompression = DecompressionMethods.None,
    UseCookies = false,
    EnableMultipleHttp2Connections = true,
    ActivityHeadersPropagator = null,
    ConnectTimeout = TimeSpan.FromSeconds(15),
});

var app = builder.Build();
app.MapForwarder("/{**catch-all}", destination, ForwarderRequestConfig.Empty, HttpTransformer.Empty, invoker);
app.Run();
