using System.Text;
using Microsoft.AspNetCore.Http;
using Orchestrator.Http;

namespace Orchestrator.Tests.Http;

public sealed class ChatRequestReaderFaultTests
{
    private static Task<ChatRequestReader.Result> ReadAsync(string? fault)
    {
        var http = new DefaultHttpContext();
        http.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes("""{"model":"sim","messages":[{"role":"user","content":"hi"}]}"""));
        if (fault is not null) http.Request.Headers[ChatRequestReader.FaultHeader] = fault;
        return ChatRequestReader.ReadAsync(http.Request, CancellationToken.None);
    }

    [Fact]
    public async Task FaultHeader_Absent_LeavesNoPlan()
    {
        var result = await ReadAsync(null);
        Assert.Null(result.Request!.SimulatorFault);
    }

    [Fact]
    public async Task FaultHeader_Valid_IsStoredNormalised()
    {
        var result = await ReadAsync(" Times=2 , STATUS=503 ");
        Assert.Equal("status=503;times=2", result.Request!.SimulatorFault);
    }

    [Fact]
    public async Task FaultHeader_Invalid_IsA400NamingTheKey()
    {
        var result = await ReadAsync("status=503;wobble=1");

        Assert.Null(result.Request);
        Assert.Equal(400, result.Error!.Status);
        Assert.Equal("x-simulator-fault", result.Error.Param);
        Assert.Equal("invalid_fault_plan", result.Error.Code);
        Assert.Contains("wobble", result.Error.Message);
    }
}
