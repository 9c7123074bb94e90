using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Tests.EndToEnd;

/// <summary>
/// The relay as a process with <c>logging.format = json</c> at Debug: a suite of requests over every front (retry,
/// resume, a real HTTP upstream with a key, refused keys, an api_key query), then its whole output is read. Every
/// line is one JSON event; no prompt, answer or key appears in any; a request's lines carry its trace id.
/// </summary>
public sealed class JsonLogTests
{
    [Fact]
    public async Task JsonLog_DebugScenarioSuite_OneEventPerLine_NoPromptAnswerOrKey()
    {
        var clientKey = "sk-client-" + Guid.NewGuid().ToString("N");
        var wrongKey = "sk-wrong-" + Guid.NewGuid().ToString("N");
        var upstreamKey = "sk-upstream-" + Guid.NewGuid().ToString("N");
        var upstreamAnswer = "answer-" + Guid.NewGuid().ToString("N");
        var secrets = new List<string> { clientKey, wrongKey, upstreamKey, upstreamAnswer };

        var (upstream, upstreamUrl) = await LoopbackApp.StartAsync(app => app.MapPost("/v1/chat/completions", async (HttpContext http) =>
        {
            if (!http.Request.Headers.Accept.ToString().Contains("text/event-stream"))
            {
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync($$$"""{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"{{{upstreamAnswer}}}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}""");
                return;
            }
            http.Response.ContentType = "text/event-stream";
            await http.Response.WriteAsync(
                $$$"""data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"{{{upstreamAnswer}}}"},"finish_reason":"stop"}]}""" + "\n\ndata: [DONE]\n\n");
        }));
        var config = Path.Combine(Path.GetTempPath(), $"orchestrator-test-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(config, $$"""
            orchestrator {
              logging { level = Debug, format = json, requests = on }
              auth.keys = ["{{clientKey}}"]
              providers {
                sim { kind = simulator, token-delay = 0ms, completion-tokens = 12, fault = "status=503" }
                cut { kind = simulator, token-delay = 0ms, completion-tokens = 12, fault = "drop-after=4" }
                up { kind = openai, base-url = "{{upstreamUrl}}v1", api-key = "{{upstreamKey}}" }
              }
              models {
                m-sim { routes = [ { provider = sim } ] }
                m-cut { routes = [ { provider = cut } ] }
                m-up { routes = [ { provider = up } ] }
              }
            }
            """);
        var lines = new ConcurrentQueue<string>();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process
        {
            StartInfo = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Orchestrator.dll"), "--config", config, "--urls", "http://127.0.0.1:0" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            },
        };
        void OnLine(string? line)
        {
            if (line is null) return;
            lines.Enqueue(line);
            if (Regex.Match(line, "Now listening on: [^h]*(http://127\\.0\\.0\\.1:[0-9]+)") is { Success: true } match) listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        try
        {
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var url = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
            using var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new("Bearer", clientKey);

            async Task<string> Post(string path, string json, string? key = null, HttpStatusCode expected = HttpStatusCode.OK)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
                if (key is not null) request.Headers.Authorization = new("Bearer", key);
                using var response = await client.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {body}");
                return body;
            }
            string Prompt()
            {
                var prompt = "prompt-" + Guid.NewGuid().ToString("N");
                secrets.Add(prompt);
                return prompt;
            }

            var whole = JsonDocument.Parse(await Post("/v1/chat/completions", $$"""{"model":"m-sim","messages":[{"role":"user","content":"{{Prompt()}}"}]}"""));
            secrets.Add(whole.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!);   // the simulator's answer
            await Post("/v1/chat/completions", $$"""{"model":"m-cut","stream":true,"messages":[{"role":"user","content":"{{Prompt()}}"}]}""");   // cut, resumed by replay
            await Post("/v1/chat/completions", $$"""{"model":"m-up","stream":true,"messages":[{"role":"user","content":"{{Prompt()}}"}]}""");
            await Post("/v1/chat/completions", $$"""{"model":"m-up","messages":[{"role":"user","content":"{{Prompt()}}"}]}""");
            await Post("/v1/messages", $$"""{"model":"m-sim","max_tokens":20,"messages":[{"role":"user","content":"{{Prompt()}}"}]}""");
            await Post("/v1/responses", $$"""{"model":"m-sim","stream":true,"input":"{{Prompt()}}"}""");
            await Post("/v1/chat/completions", $$"""{"model":"m-sim","messages":[{"role":"user","content":"{{Prompt()}}"}]}""", key: wrongKey, expected: HttpStatusCode.Unauthorized);
            await Post("/v1/chat/completions", $$"""{"model":"nope","messages":[{"role":"user","content":"{{Prompt()}}"}]}""", expected: HttpStatusCode.NotFound);
            // A key in the query string (the realtime front reads one there) reaches the request log line redacted.
            using (var anonymous = new HttpClient { BaseAddress = url })
            using (var models = await anonymous.GetAsync($"/v1/models?api_key={clientKey}"))
                Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await upstream.DisposeAsync();
            File.Delete(config);
        }

        var output = lines.ToArray();
        Assert.Contains(output, l => l.Contains("retrying"));   // the suite did reach the engine's Debug and Info lines
        Assert.Contains(output, l => l.Contains("resuming"));
        var requestLines = 0;
        foreach (var line in output.Where(l => l.Length > 0))
        {
            var json = JsonDocument.Parse(line).RootElement;   // one event per line, nothing else on stdout or stderr
            Assert.True(json.TryGetProperty("@t", out _), line);
            Assert.DoesNotContain(secrets, line.Contains);
            if (!json.TryGetProperty("RequestId", out _)) continue;
            requestLines++;
            Assert.True(json.TryGetProperty("TraceId", out var trace) && trace.GetString()!.Length == 32, $"no trace id: {line}");
        }
        // At least the request log line of each of the nine requests.
        Assert.True(requestLines >= 9, $"only {requestLines} request lines");
    }
}
