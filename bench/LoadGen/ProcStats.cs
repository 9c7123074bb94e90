namespace Orchestrator.Bench.LoadGen;

/// <summary>
/// What Linux says about a process: CPU time (utime + stime from <c>/proc/PID/stat</c>, in clock ticks of
/// 10 ms: USER_HZ is 100 on Linux) and memory (<c>VmRSS</c>, <c>VmHWM</c> from <c>/proc/PID/status</c>).
/// </summary>
public static class ProcStats
{
    public const double MsPerTick = 10;

    public static long CpuTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name (which may hold spaces, so find its closing paren): state is field 3,
        // utime field 14, stime field 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11]) + long.Parse(fields[12]);
    }

    public static long RssKb(int pid) => StatusKb(pid, "VmRSS:");

    public static long PeakRssKb(int pid) => StatusKb(pid, "VmHWM:");

    /// <summary>Resets VmHWM to the current RSS (Linux 4.0+), so the next peak is this scenario's; false if refused.</summary>
    public static bool TryResetPeak(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static string CpusAllowed(int pid) => StatusLine(pid, "Cpus_allowed_list:") ?? "?";

    public static bool IsAlive(int pid) => File.Exists($"/proc/{pid}/stat");

    private static long StatusKb(int pid, string key) =>
        long.Parse((StatusLine(pid, key) ?? throw new InvalidOperationException($"no {key} for {pid}")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]);

    private static string? StatusLine(int pid, string key) =>
        File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?[key.Length..].Trim();
}
