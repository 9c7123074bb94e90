namespace Orchestrator.Tests.EndToEnd;

/// <summary>AwaitAssert for tests without a TestKit: the assertion is retried until it holds or the time is up.</summary>
internal static class Eventually
{
    public static async Task AssertAsync(Func<Task> assertion, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                await assertion();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);   // a poll interval, not a wait for something: the loop is bounded by the deadline
            }
        }
    }
}
