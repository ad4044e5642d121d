namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Keeps every core busy while alive (one spinning thread per core, at normal priority), so a concurrency test runs on a
/// loaded machine: thread-pool work and timers run late, as they do on a busy replica.
/// </summary>
public sealed class CpuLoad : IDisposable
{
    private volatile bool _stop;
    private readonly List<Thread> _threads = [];

    public CpuLoad(int? threads = null)
    {
        for (var i = 0; i < (threads ?? Environment.ProcessorCount); i++)
        {
            var thread = new Thread(Spin) { IsBackground = true, Name = "cpu-load-" + i };
            thread.Start();
            _threads.Add(thread);
        }
    }

    private void Spin()
    {
        var x = 0UL;
        while (!_stop)
        {
            x = x * 6364136223846793005UL + 1442695040888963407UL;
        }

        GC.KeepAlive(x);
    }

    public void Dispose()
    {
        _stop = true;
        foreach (var thread in _threads)
        {
            thread.Join();
        }
    }
}
