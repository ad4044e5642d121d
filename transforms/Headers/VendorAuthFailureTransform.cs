using System.Buffers;
using Gateway.Transforms.Tasks;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Headers;

/// <summary>
/// Holds back a vendor's 401 (on every route) before any of it reaches the caller, keeping its message, so the host can
/// re-read the key and retry once, or answer vendor_auth_failed: the caller's own key was fine.
/// </summary>
internal sealed class VendorAuthFailureTransform : ResponseTransform
{
    private const int MaxBodyBytes = 64 * 1024;

    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        if (context.ProxyResponse is not { StatusCode: System.Net.HttpStatusCode.Unauthorized } response
            || context.HttpContext.Features.Get<VendorKeyFeature>() is not { } key)
        {
            return;
        }

        context.SuppressResponseBody = true;
        string? message = null;
        var keyRejected = false;
        try
        {
            var buffer = new ArrayBufferWriter<byte>(4096);
            await using var body = await response.Content.ReadAsStreamAsync(context.CancellationToken);
            int read;
            while (buffer.WrittenCount < MaxBodyBytes && (read = await body.ReadAsync(buffer.GetMemory(4096), context.CancellationToken)) > 0)
            {
                buffer.Advance(read);
            }

            message = key.Vendor.ReadErrorMessage(buffer.WrittenSpan);
            keyRejected = key.Vendor.RejectsKey(buffer.WrittenSpan);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            // The message is a nicety; the status is what matters.
        }

        context.HttpContext.Features.Set(new VendorAuthFailureFeature(key.Provider, key.Key, ErrorMessageSanitizer.Sanitize(message), keyRejected));
    }
}
