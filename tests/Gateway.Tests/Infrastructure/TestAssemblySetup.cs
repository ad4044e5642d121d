// The suite runs real redis-server, promtool and npm tools: it is a Linux suite.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Gateway.Tests.Infrastructure;

[SetUpFixture]
public sealed class TestAssemblySetup
{
    [OneTimeSetUp]
    public void RaiseThreadPoolFloor()
    {
        // WireMock's SSE writer blocks a pool thread per stream; on 2 cores the pool would otherwise grow slowly
        // and streamed chunks would arrive in bursts, hiding (or faking) buffering.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
    }
}
