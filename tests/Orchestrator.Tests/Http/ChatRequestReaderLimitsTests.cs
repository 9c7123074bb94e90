using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Orchestrator.Http;

namespace Orchestrator.Tests.Http;

public sealed class ChatRequestReaderLimitsTests
{
    private static ChatRequestReader.Result Parse(string extra) => ChatRequestReader.Parse(new ReadOnlySequence<byte>(
        Encoding.UTF8.GetBytes($$"""{"model":"sim","messages":[{"role":"user","content":"hi"}]{{extra}}}""")));

    [Theory]
    [InlineData("", 1)]
    [InlineData(""","n":null""", 1)]
    [InlineData(""","n":3""", 3)]
    [InlineData(""","n":128""", 128)]
    public void N_Valid_IsExposedAsChoices(string extra, int choices) =>
        Assert.Equal(choices, Parse(extra).Request!.Choices);

    [Theory]
    [InlineData(""","n":-99999999999999999999""", "integer_below_min_value")]
    [InlineData(""","n":2147483648""", "integer_above_max_value")]
    [InlineData(""","n":2.5e1""", "invalid_type")]
    [InlineData(""","n":{}""", "invalid_type")]
    public void N_Invalid_IsA400NamingN(string extra, string code)
    {
        var error = Parse(extra).Error!;
        Assert.Equal(400, error.Status);
        Assert.Equal("n", error.Param);
        Assert.Equal(code, error.Code);
    }

    [Fact]
    public async Task FaultHeader_OverTheLimit_IsRefusedWithoutQuotingIt()
    {
        var http = new DefaultHttpContext();
        http.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes("""{"model":"sim","messages":[{"role":"user","content":"hi"}]}"""));
        var header = "status=" + new string('5', 5000);
        http.Request.Headers[ChatRequestReader.FaultHeader] = header;

        var error = (await ChatRequestReader.ReadAsync(http.Request, CancellationToken.None)).Error!;

        Assert.Equal("string_above_max_length", error.Code);
        Assert.Equal(ChatRequestReader.FaultHeader, error.Param);
        Assert.DoesNotContain("55555", error.Message);
    }
}
