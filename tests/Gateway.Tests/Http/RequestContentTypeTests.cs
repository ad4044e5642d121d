using Gateway.Transforms.Http;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Http;

/// <summary>The JSON content type check takes a request exactly as ASP.NET Core's HasJsonContentType does.</summary>
public sealed class RequestContentTypeTests
{
    [TestCase("application/json", true)]
    [TestCase("APPLICATION/JSON", true)]
    [TestCase("application/json; charset=utf-8", true)]
    [TestCase("application/json; charset=UTF-8", true)]
    [TestCase("application/json;charset=utf-8", true)]
    [TestCase("application/problem+json", true)]
    [TestCase("application/vnd.api+json; charset=utf-8", true)]
    [TestCase("text/json", false)]
    [TestCase("application/jsonx", false)]
    [TestCase("application/json garbage", false)]
    [TestCase("text/plain", false)]
    [TestCase("multipart/form-data; boundary=x", false)]
    [TestCase("", false)]
    [TestCase(null, false)]
    public void TakesAContentTypeAsAspNetCoreDoes(string? type, bool json)
    {
        var request = new DefaultHttpContext().Request;
        request.ContentType = type;
        Assert.Multiple(() =>
        {
            Assert.That(RequestContentType.IsJson(request), Is.EqualTo(request.HasJsonContentType()));
            Assert.That(RequestContentType.IsJson(request), Is.EqualTo(json));
        });
    }
}
