using System.Net.Http.Json;
using System.Text.Json;

namespace Orchestrator.Bench.LoadGen;

/// <summary>Makes a billed key on Orchestrator through its admin API, with credit the bench cannot spend.</summary>
public static class LedgerKeys
{
    public static async Task<string> CreateAsync(Target relay, string adminKey)
    {
        using var client = ChatProbe.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(relay.BaseUrl, "/admin/keys"))
        {
            Content = JsonContent.Create(new { name = "bench", credit_usd = 1_000_000 }),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + adminKey);
        using var response = await client.SendAsync(request);
        if (!response.IsSuccessStatusCode) throw new HarnessException($"POST /admin/keys answered {(int)response.StatusCode}");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("key").GetString() ?? throw new HarnessException("POST /admin/keys gave no key");
    }
}
