using Gateway.Transforms.Headers;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Resilience;

/// <summary>
/// Holds back a retryable vendor answer (429, 529, 5xx) before any of it reaches the caller, when the host says this
/// attempt may be retried and the vendor's own requested wait (read by its adapter) is within the gateway's cap; the
/// host then tries again. Otherwise the answer goes through as the vendor gave it, Retry-After included.
/// </summary>
internal sealed class VendorRetryTransform(TimeProvider time) : ResponseTransform
{
    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        if (context.ProxyResponse is not { } response || context.HttpContext.GetCallState()?.Attempt is not { } attempt)
        {
            return ValueTask.CompletedTask;
        }

        attempt.VendorStatus = (int)response.StatusCode;
        attempt.AnsweredAt = time.GetTimestamp();
        if (!attempt.MayRetry || !RetryableStatuses.Contains(attempt.VendorStatus) || context.HttpContext.Features.Get<VendorKeyFeature>() is not { } key)
        {
            return ValueTask.CompletedTask;
        }

        var wait = key.Vendor.RetryAfter(response.Headers, time.GetUtcNow());
        if (wait > attempt.MaxRetryAfter)
        {
            // Longer than the gateway waits on anyone's behalf: the caller gets the vendor's answer and its wait now.
            return ValueTask.CompletedTask;
        }

        context.SuppressResponseBody = true;
        attempt.Held = new HeldVendorAnswer((int)response.StatusCode, wait);
        return ValueTask.CompletedTask;
    }
}
