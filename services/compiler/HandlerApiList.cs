using System.Collections.Frozen;
using Microsoft.CodeAnalysis;
using Workq.Shared.Messaging;
using Workq.Shared.Scripting;

namespace Workq.Compiler;

/// <summary>
/// The types handler code may use, by metadata name: each with all its public members (less the refusals by
/// construction and the ones named here), or only the members named. A type that is not here is refused, and so
/// is every member of it. docs/handler-api-surface.md lists every member of these types with its verdict.
/// </summary>
internal static partial class HandlerApi
{
    private static readonly FrozenDictionary<string, ApiType> Listed = ToDictionary(
    [
        // The language's own types.
        Only("System.Object", Reflection, ".ctor", "Equals", "GetHashCode", "GetType", "ReferenceEquals", "ToString"),
        Only("System.ValueType", Reflection, "Equals", "GetHashCode", "ToString"),
        All("System.Enum"),
        All("System.Boolean"), All("System.Byte"), All("System.SByte"), All("System.Char"), All("System.Int16"), All(
            "System.UInt16"),
        All("System.Int32"), All("System.UInt32"), All("System.Int64"), All("System.UInt64"), All("System.Int128"), All(
            "System.UInt128"),
        All("System.IntPtr"), All("System.UIntPtr"), All("System.Single"), All("System.Double"), All(
            "System.Half"), All("System.Decimal"),
        All("System.String", Refuse("Intern", Shared), Refuse("IsInterned", Shared)),
        All("System.Nullable"), All("System.Nullable`1"),
        All("System.ValueTuple"), All("System.ValueTuple`1"), All("System.ValueTuple`2"), All(
            "System.ValueTuple`3"), All("System.ValueTuple`4"),
        All("System.ValueTuple`5"), All("System.ValueTuple`6"), All("System.ValueTuple`7"), All("System.ValueTuple`8"),
        All("System.Tuple"), All("System.Tuple`1"), All("System.Tuple`2"), All("System.Tuple`3"), All(
            "System.Tuple`4"), All("System.Tuple`5"),
        All("System.Tuple`6"), All("System.Tuple`7"), All("System.Tuple`8"), All("System.TupleExtensions"),
        All("System.Array"), All("System.ArraySegment`1"), All("System.Span`1"), All("System.ReadOnlySpan`1"), All(
            "System.Memory`1"),
        All("System.ReadOnlyMemory`1"), All("System.MemoryExtensions"), All("System.Index"), All("System.Range"),
        // A type is for its name only: what it could create, bind or call is reflection.
        Only(
            "System.Type",
            Reflection,
            "Equals",
            "FullName",
            "GetHashCode",
            "Name",
            "Namespace",
            "op_Equality",
            "op_Inequality",
            "ToString"),
        Only(
            "System.Reflection.MemberInfo",
            Reflection,
            "Equals",
            "GetHashCode",
            "Name",
            "op_Equality",
            "op_Inequality"),
        Only("System.Delegate", Reflection, "Equals", "GetHashCode", "HasSingleTarget", "op_Equality", "op_Inequality"),
        Only("System.MulticastDelegate", Reflection, "Equals", "GetHashCode", "op_Equality", "op_Inequality"),
        All("System.Action"), All("System.Action`1"), All("System.Action`2"), All("System.Action`3"), All(
            "System.Action`4"), All("System.Action`5"),
        All("System.Action`6"), All("System.Action`7"), All("System.Action`8"), All("System.Func`1"), All(
            "System.Func`2"), All("System.Func`3"),
        All("System.Func`4"), All("System.Func`5"), All("System.Func`6"), All("System.Func`7"), All(
            "System.Func`8"), All("System.Func`9"),
        All("System.Predicate`1"), All("System.Comparison`1"), All("System.Converter`2"), All(
            "System.EventHandler"), All("System.EventHandler`1"),
        All("System.Buffers.SpanAction`2"), All("System.Buffers.ReadOnlySpanAction`2"),
        All("System.IDisposable"), All("System.IAsyncDisposable"), All("System.IComparable"), All(
            "System.IComparable`1"), All("System.IEquatable`1"),
        All("System.IFormatProvider"), All("System.IFormattable"), All("System.ISpanFormattable"), All(
            "System.IUtf8SpanFormattable"),
        All("System.IParsable`1"), All("System.ISpanParsable`1"), All("System.IUtf8SpanParsable`1"), All(
            "System.IConvertible"),
        All("System.Attribute"), All("System.AttributeUsageAttribute"), All("System.AttributeTargets"), All(
            "System.FlagsAttribute"),
        All("System.ObsoleteAttribute"), All("System.EventArgs"),
        All("System.Runtime.CompilerServices.CallerMemberNameAttribute"), All(
            "System.Runtime.CompilerServices.CallerLineNumberAttribute"),
        All("System.Runtime.CompilerServices.CallerFilePathAttribute"), All(
            "System.Runtime.CompilerServices.CallerArgumentExpressionAttribute"),
        All("System.Runtime.CompilerServices.EnumeratorCancellationAttribute"), All(
            "System.Runtime.CompilerServices.IsExternalInit"),
        All("System.Runtime.CompilerServices.ITuple"), All(
            "System.Runtime.CompilerServices.FormattableStringFactory"), All("System.FormattableString"),
        All("System.Diagnostics.CodeAnalysis.AllowNullAttribute"), All(
            "System.Diagnostics.CodeAnalysis.DisallowNullAttribute"),
        All("System.Diagnostics.CodeAnalysis.MaybeNullAttribute"), All(
            "System.Diagnostics.CodeAnalysis.MaybeNullWhenAttribute"),
        All("System.Diagnostics.CodeAnalysis.NotNullAttribute"), All(
            "System.Diagnostics.CodeAnalysis.NotNullWhenAttribute"),
        All("System.Diagnostics.CodeAnalysis.NotNullIfNotNullAttribute"), All(
            "System.Diagnostics.CodeAnalysis.MemberNotNullAttribute"),
        All("System.Diagnostics.CodeAnalysis.MemberNotNullWhenAttribute"), All(
            "System.Diagnostics.CodeAnalysis.DoesNotReturnAttribute"),
        All("System.Diagnostics.CodeAnalysis.DoesNotReturnIfAttribute"), All(
            "System.Diagnostics.CodeAnalysis.SetsRequiredMembersAttribute"),
        All("System.Diagnostics.CodeAnalysis.StringSyntaxAttribute"),

        // Exceptions a handler throws or catches.
        All("System.Exception", Refuse("Data", ObjectGraph)),
        All("System.SystemException"), All("System.ApplicationException"), All("System.ArgumentException"), All(
            "System.ArgumentNullException"),
        All("System.ArgumentOutOfRangeException"), All("System.ArithmeticException"), All(
            "System.DivideByZeroException"), All("System.OverflowException"),
        All("System.FormatException"), All("System.IndexOutOfRangeException"), All("System.InvalidCastException"), All(
            "System.InvalidOperationException"),
        All("System.NotImplementedException"), All("System.NotSupportedException"), All(
            "System.NullReferenceException"),
        All("System.ObjectDisposedException"), All("System.OperationCanceledException"), All(
            "System.TimeoutException"), All("System.AggregateException"),
        All("System.PlatformNotSupportedException"), All("System.OutOfMemoryException"), All(
            "System.UriFormatException"),
        All("System.Collections.Generic.KeyNotFoundException"), All("System.Threading.Tasks.TaskCanceledException"),
        All("System.IO.IOException"), All("System.IO.EndOfStreamException"), All("System.IO.InvalidDataException"),
        All("System.Diagnostics.UnreachableException"),

        // Numbers, dates, text.
        All("System.Math"), All("System.MathF"), All("System.Convert"), All("System.BitConverter"), All(
            "System.HashCode"),
        All("System.Random"), All("System.MidpointRounding"), All("System.TypeCode"), All(
            "System.Base64FormattingOptions"),
        All("System.Numerics.BigInteger"), All("System.Numerics.Complex"), All("System.Numerics.BitOperations"),
        All("System.Numerics.IAdditionOperators`3"), All("System.Numerics.IAdditiveIdentity`2"), All(
            "System.Numerics.IBinaryFloatingPointIeee754`1"),
        All("System.Numerics.IBinaryInteger`1"), All("System.Numerics.IBinaryNumber`1"), All(
            "System.Numerics.IBitwiseOperators`3"),
        All("System.Numerics.IComparisonOperators`3"), All("System.Numerics.IDecrementOperators`1"), All(
            "System.Numerics.IDivisionOperators`3"),
        All("System.Numerics.IEqualityOperators`3"), All("System.Numerics.IExponentialFunctions`1"), All(
            "System.Numerics.IFloatingPoint`1"),
        All("System.Numerics.IFloatingPointConstants`1"), All("System.Numerics.IFloatingPointIeee754`1"), All(
            "System.Numerics.IHyperbolicFunctions`1"),
        All("System.Numerics.IIncrementOperators`1"), All("System.Numerics.ILogarithmicFunctions`1"), All(
            "System.Numerics.IMinMaxValue`1"),
        All("System.Numerics.IModulusOperators`3"), All("System.Numerics.IMultiplicativeIdentity`2"), All(
            "System.Numerics.IMultiplyOperators`3"),
        All("System.Numerics.INumber`1"), All("System.Numerics.INumberBase`1"), All(
            "System.Numerics.IPowerFunctions`1"),
        All("System.Numerics.IRootFunctions`1"), All("System.Numerics.IShiftOperators`3"), All(
            "System.Numerics.ISignedNumber`1"),
        All("System.Numerics.ISubtractionOperators`3"), All("System.Numerics.ITrigonometricFunctions`1"), All(
            "System.Numerics.IUnaryNegationOperators`2"),
        All("System.Numerics.IUnaryPlusOperators`2"), All("System.Numerics.IUnsignedNumber`1"),
        All("System.DateTime"), All("System.DateTimeOffset"), All("System.DateOnly"), All("System.TimeOnly"), All(
            "System.TimeSpan"),
        All("System.DateTimeKind"), All("System.DayOfWeek"), All(
            "System.TimeZoneInfo",
            Refuse("ClearCachedData", ProcessSettings)),
        All("System.TimeProvider", Refuse("CreateTimer", Background)), All("System.Diagnostics.Stopwatch"),
        All("System.Guid"), All("System.Version"), All("System.Uri"), All("System.UriBuilder"), All(
            "System.UriKind"), All("System.UriComponents"),
        All("System.UriFormat"), All("System.UriPartial"), All("System.UriHostNameType"), All(
            "System.UriCreationOptions"),
        All("System.StringComparer"), All("System.StringComparison"), All("System.StringSplitOptions"), All(
            "System.StringNormalizationExtensions"),
        All("System.CharEnumerator"),
        All("System.Text.StringBuilder"), All("System.Text.Rune"), All("System.Text.NormalizationForm"), All(
            "System.Text.Ascii"),
        All("System.Text.CompositeFormat"), All("System.Text.SpanLineEnumerator"), All(
            "System.Text.SpanRuneEnumerator"),
        All("System.Text.StringRuneEnumerator"), All(
            "System.Text.Encoding",
            Refuse("RegisterProvider", ProcessSettings)),
        All("System.Text.UTF8Encoding"), All("System.Text.UnicodeEncoding"), All("System.Text.UTF32Encoding"), All(
            "System.Text.ASCIIEncoding"),
        All("System.Text.Encoder"), All("System.Text.Decoder"), All("System.Text.Unicode.Utf8"), All(
            "System.Text.Unicode.UnicodeRange"),
        All("System.Text.Unicode.UnicodeRanges"), All("System.Text.Encodings.Web.TextEncoder"), All(
            "System.Text.Encodings.Web.JavaScriptEncoder"),
        All("System.Text.Encodings.Web.HtmlEncoder"), All("System.Text.Encodings.Web.UrlEncoder"), All(
            "System.Text.Encodings.Web.TextEncoderSettings"),
        All("System.Buffers.Text.Base64"), All("System.Buffers.Text.Base64Url"), All(
            "System.Buffers.Binary.BinaryPrimitives"),
        All("System.Buffers.SearchValues"), All("System.Buffers.SearchValues`1"), All("System.Buffers.OperationStatus"),
        All("System.Buffers.ArrayBufferWriter`1"), All("System.Buffers.IBufferWriter`1"),
        All("System.Buffers.ArrayPool`1", Refuse("Shared", Shared + " (ArrayPool<T>.Create() makes a private pool)")),
        All("System.Web.HttpUtility"), All("System.Net.WebUtility"),
        All(
            "System.Globalization.CultureInfo",
            Refuse("ClearCachedData", ProcessSettings),
            Refuse("DefaultThreadCurrentCulture", ProcessSettings),
            Refuse("DefaultThreadCurrentUICulture", ProcessSettings)),
        All("System.Globalization.CultureTypes"), All("System.Globalization.NumberStyles"), All(
            "System.Globalization.DateTimeStyles"),
        All("System.Globalization.TimeSpanStyles"), All("System.Globalization.CompareOptions"), All(
            "System.Globalization.CompareInfo"),
        All("System.Globalization.TextInfo"), All("System.Globalization.NumberFormatInfo"), All(
            "System.Globalization.DateTimeFormatInfo"),
        All("System.Globalization.Calendar"), All("System.Globalization.CalendarWeekRule"), All(
            "System.Globalization.ISOWeek"),
        All("System.Globalization.UnicodeCategory"), All("System.Globalization.CharUnicodeInfo"), All(
            "System.Globalization.StringInfo"),
        All("System.Globalization.TextElementEnumerator"),
        All("System.Text.RegularExpressions.Regex"), All("System.Text.RegularExpressions.RegexOptions"), All(
            "System.Text.RegularExpressions.Match"),
        All("System.Text.RegularExpressions.Group"), All("System.Text.RegularExpressions.Capture"), All(
            "System.Text.RegularExpressions.MatchCollection"),
        All("System.Text.RegularExpressions.GroupCollection"), All("System.Text.RegularExpressions.CaptureCollection"),
        All("System.Text.RegularExpressions.MatchEvaluator"), All("System.Text.RegularExpressions.ValueMatch"),
        All("System.Text.RegularExpressions.RegexMatchTimeoutException"), All(
            "System.Text.RegularExpressions.RegexParseException"),
        All("System.Text.RegularExpressions.RegexParseError"),

        // JSON.
        All("System.Text.Json.JsonSerializer"),
        All(
            "System.Text.Json.JsonSerializerOptions",
            Refuse("TypeInfoResolver", Metadata),
            Refuse("TypeInfoResolverChain", Metadata),
            Refuse("GetTypeInfo", Metadata),
            Refuse("TryGetTypeInfo", Metadata)),
        All("System.Text.Json.JsonSerializerDefaults"), All("System.Text.Json.JsonDocument"), All(
            "System.Text.Json.JsonDocumentOptions"),
        All("System.Text.Json.JsonElement"), All("System.Text.Json.JsonProperty"), All(
            "System.Text.Json.JsonValueKind"), All("System.Text.Json.JsonTokenType"),
        All("System.Text.Json.JsonException"), All("System.Text.Json.JsonNamingPolicy"), All(
            "System.Text.Json.JsonCommentHandling"),
        All("System.Text.Json.JsonReaderOptions"), All("System.Text.Json.JsonWriterOptions"), All(
            "System.Text.Json.JsonReaderState"),
        All("System.Text.Json.Utf8JsonReader"), All("System.Text.Json.Utf8JsonWriter"), All(
            "System.Text.Json.JsonEncodedText"),
        All("System.Text.Json.Nodes.JsonNode"), All("System.Text.Json.Nodes.JsonObject"), All(
            "System.Text.Json.Nodes.JsonArray"),
        All("System.Text.Json.Nodes.JsonValue"), All("System.Text.Json.Nodes.JsonNodeOptions"),
        All("System.Text.Json.Serialization.JsonConverter"), All("System.Text.Json.Serialization.JsonConverter`1"),
        All("System.Text.Json.Serialization.JsonConverterAttribute"), All(
            "System.Text.Json.Serialization.JsonStringEnumConverter"),
        All("System.Text.Json.Serialization.JsonStringEnumConverter`1"), All(
            "System.Text.Json.Serialization.JsonStringEnumMemberNameAttribute"),
        All("System.Text.Json.Serialization.JsonPropertyNameAttribute"), All(
            "System.Text.Json.Serialization.JsonPropertyOrderAttribute"),
        All("System.Text.Json.Serialization.JsonIgnoreAttribute"), All(
            "System.Text.Json.Serialization.JsonIgnoreCondition"),
        All("System.Text.Json.Serialization.JsonIncludeAttribute"), All(
            "System.Text.Json.Serialization.JsonRequiredAttribute"),
        All("System.Text.Json.Serialization.JsonConstructorAttribute"), All(
            "System.Text.Json.Serialization.JsonExtensionDataAttribute"),
        All("System.Text.Json.Serialization.JsonNumberHandling"), All(
            "System.Text.Json.Serialization.JsonNumberHandlingAttribute"),
        All("System.Text.Json.Serialization.JsonKnownNamingPolicy"), All(
            "System.Text.Json.Serialization.JsonUnknownTypeHandling"),
        All("System.Text.Json.Serialization.JsonUnmappedMemberHandling"), All(
            "System.Text.Json.Serialization.JsonUnmappedMemberHandlingAttribute"),
        All("System.Text.Json.Serialization.JsonObjectCreationHandling"), All(
            "System.Text.Json.Serialization.JsonObjectCreationHandlingAttribute"),
        All("System.Text.Json.Serialization.JsonPolymorphicAttribute"), All(
            "System.Text.Json.Serialization.JsonDerivedTypeAttribute"),
        All("System.Text.Json.Serialization.IJsonOnDeserialized"), All(
            "System.Text.Json.Serialization.IJsonOnDeserializing"),
        All("System.Text.Json.Serialization.IJsonOnSerialized"), All(
            "System.Text.Json.Serialization.IJsonOnSerializing"),

        // Collections and LINQ.
        All("System.Collections.IEnumerable"), All("System.Collections.IEnumerator"),
        All("System.Collections.Generic.IEnumerable`1"), All("System.Collections.Generic.IEnumerator`1"), All(
            "System.Collections.Generic.ICollection`1"),
        All("System.Collections.Generic.IList`1"), All("System.Collections.Generic.IReadOnlyCollection`1"), All(
            "System.Collections.Generic.IReadOnlyList`1"),
        All("System.Collections.Generic.IDictionary`2"), All("System.Collections.Generic.IReadOnlyDictionary`2"), All(
            "System.Collections.Generic.ISet`1"),
        All("System.Collections.Generic.IReadOnlySet`1"), All("System.Collections.Generic.IAsyncEnumerable`1"),
        All("System.Collections.Generic.IAsyncEnumerator`1"), All("System.Collections.Generic.IComparer`1"),
        All("System.Collections.Generic.IEqualityComparer`1"), All("System.Collections.Generic.Comparer`1"),
        All("System.Collections.Generic.EqualityComparer`1"), All(
            "System.Collections.Generic.ReferenceEqualityComparer"),
        All("System.Collections.Generic.KeyValuePair"), All("System.Collections.Generic.KeyValuePair`2"), All(
            "System.Collections.Generic.List`1"),
        All("System.Collections.Generic.Dictionary`2"), All("System.Collections.Generic.HashSet`1"), All(
            "System.Collections.Generic.SortedDictionary`2"),
        All("System.Collections.Generic.SortedList`2"), All("System.Collections.Generic.SortedSet`1"), All(
            "System.Collections.Generic.OrderedDictionary`2"),
        All("System.Collections.Generic.Queue`1"), All("System.Collections.Generic.Stack`1"), All(
            "System.Collections.Generic.LinkedList`1"),
        All("System.Collections.Generic.LinkedListNode`1"), All("System.Collections.Generic.PriorityQueue`2"),
        All("System.Collections.Generic.CollectionExtensions"),
        All("System.Collections.Concurrent.ConcurrentDictionary`2"), All(
            "System.Collections.Concurrent.ConcurrentQueue`1"),
        All("System.Collections.Concurrent.ConcurrentStack`1"), All("System.Collections.Concurrent.ConcurrentBag`1"),
        All("System.Collections.ObjectModel.Collection`1"), All("System.Collections.ObjectModel.ReadOnlyCollection`1"),
        All("System.Collections.ObjectModel.ReadOnlyDictionary`2"), All("System.Collections.ObjectModel.ReadOnlySet`1"),
        All("System.Linq.Enumerable"), All("System.Linq.IGrouping`2"), All("System.Linq.ILookup`2"), All(
            "System.Linq.IOrderedEnumerable`1"),
        All("System.Linq.Lookup`2"),

        // Tasks and waiting within the event.
        Only(
            "System.Threading.Tasks.Task",
            Background,
            "CompletedTask",
            "ConfigureAwait",
            "CreationOptions",
            "CurrentId",
            "Delay",
            "Dispose",
            "Exception",
            "FromCanceled",
            "FromException",
            "FromResult",
            "GetAwaiter",
            "Id",
            "IsCanceled",
            "IsCompleted",
            "IsCompletedSuccessfully",
            "IsFaulted",
            "Status",
            "Wait",
            "WaitAll",
            "WaitAny",
            "WaitAsync",
            "WhenAll",
            "WhenAny",
            "WhenEach",
            "Yield")
            with { Refusals = [Refuse("AsyncState", ObjectGraph)] },
        Only("System.Threading.Tasks.Task`1", Background, "ConfigureAwait", "GetAwaiter", "Result", "WaitAsync"),
        All("System.Threading.Tasks.ValueTask"), All("System.Threading.Tasks.ValueTask`1"), All(
            "System.Threading.Tasks.TaskCompletionSource"),
        All("System.Threading.Tasks.TaskCompletionSource`1"), All("System.Threading.Tasks.TaskStatus"), All(
            "System.Threading.Tasks.TaskCreationOptions"),
        All("System.Threading.Tasks.ConfigureAwaitOptions"), All("System.Threading.Tasks.TaskExtensions"),
        All("System.Threading.Tasks.TaskAsyncEnumerableExtensions"),
        // What await binds to; a continuation of the script's own (OnCompleted) would outlive the event.
        Only("System.Runtime.CompilerServices.TaskAwaiter", Background, "GetResult", "IsCompleted"),
        Only("System.Runtime.CompilerServices.TaskAwaiter`1", Background, "GetResult", "IsCompleted"),
        Only("System.Runtime.CompilerServices.ValueTaskAwaiter", Background, "GetResult", "IsCompleted"),
        Only("System.Runtime.CompilerServices.ValueTaskAwaiter`1", Background, "GetResult", "IsCompleted"),
        Only("System.Runtime.CompilerServices.ConfiguredTaskAwaitable", Background, "GetAwaiter"),
        Only("System.Runtime.CompilerServices.ConfiguredTaskAwaitable`1", Background, "GetAwaiter"),
        Only("System.Runtime.CompilerServices.ConfiguredValueTaskAwaitable", Background, "GetAwaiter"),
        Only("System.Runtime.CompilerServices.ConfiguredValueTaskAwaitable`1", Background, "GetAwaiter"),
        Only("System.Runtime.CompilerServices.YieldAwaitable", Background, "GetAwaiter"),
        Only(
            "System.Runtime.CompilerServices.ConfiguredTaskAwaitable+ConfiguredTaskAwaiter",
            Background,
            "GetResult",
            "IsCompleted"),
        Only(
            "System.Runtime.CompilerServices.ConfiguredTaskAwaitable`1+ConfiguredTaskAwaiter",
            Background,
            "GetResult",
            "IsCompleted"),
        Only(
            "System.Runtime.CompilerServices.ConfiguredValueTaskAwaitable+ConfiguredValueTaskAwaiter",
            Background,
            "GetResult",
            "IsCompleted"),
        Only(
            "System.Runtime.CompilerServices.ConfiguredValueTaskAwaitable`1+ConfiguredValueTaskAwaiter",
            Background,
            "GetResult",
            "IsCompleted"),
        Only("System.Runtime.CompilerServices.YieldAwaitable+YieldAwaiter", Background, "GetResult", "IsCompleted"),
        Only(
            "System.Runtime.CompilerServices.ConfiguredCancelableAsyncEnumerable`1",
            Background,
            "ConfigureAwait",
            "GetAsyncEnumerator",
            "WithCancellation"),
        Only(
            "System.Runtime.CompilerServices.ConfiguredCancelableAsyncEnumerable`1+Enumerator",
            Background,
            "Current",
            "DisposeAsync",
            "MoveNextAsync"),
        Only("System.Runtime.CompilerServices.ConfiguredAsyncDisposable", Background, "DisposeAsync"),
        All(
            "System.Threading.CancellationToken",
            Refuse("Register", Background),
            Refuse("UnsafeRegister", Background)), All("System.Threading.CancellationTokenSource"),
        All("System.Threading.Interlocked", Refuse("MemoryBarrierProcessWide", Runtime)), All(
            "System.Threading.Volatile"),
        All("System.Threading.SemaphoreSlim"), All("System.Threading.Lock"), All("System.Threading.Timeout"),

        // Streams over memory; no file, pipe or socket stream.
        All("System.IO.Stream"), All("System.IO.MemoryStream"), All("System.IO.BufferedStream"), All(
            "System.IO.SeekOrigin"),
        All("System.IO.StreamReader", Refuse(".ctor", FileSystem, TakesPath)), All(
            "System.IO.StreamWriter",
            Refuse(".ctor", FileSystem, TakesPath)),
        All("System.IO.StringReader"), All("System.IO.StringWriter"), All("System.IO.TextReader"), All(
            "System.IO.TextWriter"),
        All("System.IO.BinaryReader"), All("System.IO.BinaryWriter"),

        // Http: the client given to the handler, and the messages it sends and receives.
        All("System.Net.Http.HttpClient", Refuse(".ctor", Egress), Refuse("DefaultProxy", ProcessSettings)),
        All("System.Net.Http.HttpMessageInvoker", Refuse(".ctor", Egress)),
        All("System.Net.Http.HttpRequestMessage"), All("System.Net.Http.HttpResponseMessage"), All(
            "System.Net.Http.HttpMethod"),
        All("System.Net.Http.HttpContent"), All("System.Net.Http.StringContent"), All(
            "System.Net.Http.ByteArrayContent"),
        All("System.Net.Http.ReadOnlyMemoryContent"), All("System.Net.Http.StreamContent"), All(
            "System.Net.Http.FormUrlEncodedContent"),
        All("System.Net.Http.MultipartContent"), All("System.Net.Http.MultipartFormDataContent"), All(
            "System.Net.Http.HttpCompletionOption"),
        All("System.Net.Http.HttpVersionPolicy"), All("System.Net.Http.HttpRequestException"), All(
            "System.Net.Http.HttpRequestError"),
        All("System.Net.Http.HttpIOException"), All("System.Net.Http.HttpProtocolException"),
        All("System.Net.Http.Headers.HttpHeaders"), All("System.Net.Http.Headers.HttpRequestHeaders"), All(
            "System.Net.Http.Headers.HttpResponseHeaders"),
        All("System.Net.Http.Headers.HttpContentHeaders"), All("System.Net.Http.Headers.HttpHeadersNonValidated"),
        All("System.Net.Http.Headers.HeaderStringValues"), All("System.Net.Http.Headers.HttpHeaderValueCollection`1"),
        All("System.Net.Http.Headers.AuthenticationHeaderValue"), All(
            "System.Net.Http.Headers.CacheControlHeaderValue"),
        All("System.Net.Http.Headers.ContentDispositionHeaderValue"), All(
            "System.Net.Http.Headers.ContentRangeHeaderValue"),
        All("System.Net.Http.Headers.EntityTagHeaderValue"), All("System.Net.Http.Headers.MediaTypeHeaderValue"),
        All("System.Net.Http.Headers.MediaTypeWithQualityHeaderValue"), All(
            "System.Net.Http.Headers.NameValueHeaderValue"),
        All("System.Net.Http.Headers.NameValueWithParametersHeaderValue"), All(
            "System.Net.Http.Headers.ProductHeaderValue"),
        All("System.Net.Http.Headers.ProductInfoHeaderValue"), All("System.Net.Http.Headers.RangeConditionHeaderValue"),
        All("System.Net.Http.Headers.RangeHeaderValue"), All("System.Net.Http.Headers.RangeItemHeaderValue"),
        All("System.Net.Http.Headers.RetryConditionHeaderValue"), All(
            "System.Net.Http.Headers.StringWithQualityHeaderValue"),
        All("System.Net.Http.Headers.TransferCodingHeaderValue"), All(
            "System.Net.Http.Headers.TransferCodingWithQualityHeaderValue"),
        All("System.Net.Http.Headers.ViaHeaderValue"), All("System.Net.Http.Headers.WarningHeaderValue"),
        All("System.Net.HttpStatusCode"), All("System.Net.HttpVersion"), All("System.Net.DecompressionMethods"), All(
            "System.Net.IPAddress"),
        All("System.Net.IPNetwork"),
        // What HttpRequestException and IPAddress report.
        All("System.Net.Sockets.SocketError"), All("System.Net.Sockets.SocketException"), All(
            "System.Net.Sockets.AddressFamily"),

        // The globals, and what they hand out of Workq's own.
        Only(
            "Workq.Shared.Scripting.HandlerGlobals",
            Host,
            "Batch",
            "CancellationToken",
            "Emit",
            "EmitBatch",
            "Event",
            "Http",
            "Log",
            "Meta",
            "Sleep",
            "SleepUntil",
            "Step",
            "WaitFor"),
        Only("Workq.Shared.Scripting.HandlerBatch", Host, "Cancelled", "Completed", "Failed", "Id", "Results", "Total"),
        Only(
            "Workq.Shared.Scripting.HandlerMeta",
            Host,
            "Attempt",
            "BatchId",
            "Canvas",
            "Deconstruct",
            "Depth",
            "EnqueuedAt",
            "Equals",
            "GetHashCode",
            "Id",
            "op_Equality",
            "op_Inequality",
            "Resume",
            "ToString",
            "Worker"),
        Only("Workq.Shared.Messaging.QueueFullException", Host, "Canvas", "Worker"),
    ]);

    /// <summary>
    /// Types an interpolated string converts to, which framework signatures may take, but which only the compiler may
    /// hold: it rents from the shared array pool, and a copy in the script's own code could return the array twice.
    /// </summary>
    private static readonly FrozenSet<string> CompilerOnly = FrozenSet.ToFrozenSet(
        ["System.Runtime.CompilerServices.DefaultInterpolatedStringHandler"]);

    /// <summary>
    /// What a script's own types may derive from, besides exceptions; protected members of these are listed too.
    /// </summary>
    /// <remarks>
    /// Framework base classes such as Stream or TextWriter pass pooled arrays (that held other canvases' data) to
    /// overridable methods, so only these are open.
    /// </remarks>
    public static readonly FrozenSet<string> DerivableTypes = FrozenSet.ToFrozenSet(
    [
        "System.Object", "System.ValueType", "System.Enum", "System.EventArgs", "System.Attribute",
        "System.Collections.Generic.Comparer`1", "System.Collections.Generic.EqualityComparer`1",
        "System.Collections.ObjectModel.Collection`1", "System.Text.Json.Serialization.JsonConverter`1",
    ]);

    /// <summary>Members that hand out a plain <c>object</c> which can only be one the script put there.</summary>
    private static readonly FrozenSet<(string Type, string Member)> OwnObjects = FrozenSet.ToFrozenSet(
    [
        // foreach over MatchCollection, GroupCollection and CaptureCollection, whose GetEnumerator is the non-generic
        // one.
        ("System.Collections.IEnumerator", "Current"),
    ]);

    /// <summary>
    /// What the serializer may create when it deserializes (with the script's own types made of these, and enums):
    /// values, JSON, and the collections it fills. Anything else it would build through the type's constructor.
    /// </summary>
    private static readonly FrozenSet<string> SerializerData = FrozenSet.ToFrozenSet(
    [
        "System.Object", "System.String", "System.Boolean", "System.Char", "System.Byte", "System.SByte",
            "System.Int16", "System.UInt16",
        "System.Int32", "System.UInt32", "System.Int64", "System.UInt64", "System.Int128", "System.UInt128",
            "System.Single", "System.Double",
        "System.Half", "System.Decimal", "System.DateTime", "System.DateTimeOffset", "System.DateOnly",
            "System.TimeOnly", "System.TimeSpan",
        "System.Guid", "System.Uri", "System.Version", "System.Nullable`1", "System.Memory`1",
            "System.ReadOnlyMemory`1",
        "System.ValueTuple`1", "System.ValueTuple`2", "System.ValueTuple`3", "System.ValueTuple`4",
            "System.ValueTuple`5", "System.ValueTuple`6",
        "System.ValueTuple`7", "System.ValueTuple`8",
        "System.Text.Json.JsonElement", "System.Text.Json.JsonDocument", "System.Text.Json.Nodes.JsonNode",
            "System.Text.Json.Nodes.JsonObject",
        "System.Text.Json.Nodes.JsonArray", "System.Text.Json.Nodes.JsonValue",
        "System.Collections.Generic.IEnumerable`1", "System.Collections.Generic.ICollection`1",
            "System.Collections.Generic.IList`1",
        "System.Collections.Generic.IReadOnlyCollection`1", "System.Collections.Generic.IReadOnlyList`1",
            "System.Collections.Generic.ISet`1",
        "System.Collections.Generic.IReadOnlySet`1", "System.Collections.Generic.IDictionary`2",
            "System.Collections.Generic.IReadOnlyDictionary`2",
        "System.Collections.Generic.KeyValuePair`2", "System.Collections.Generic.List`1",
            "System.Collections.Generic.Dictionary`2",
        "System.Collections.Generic.HashSet`1", "System.Collections.Generic.SortedSet`1",
            "System.Collections.Generic.SortedDictionary`2",
        "System.Collections.Generic.SortedList`2", "System.Collections.Generic.OrderedDictionary`2",
            "System.Collections.Generic.Queue`1",
        "System.Collections.Generic.Stack`1", "System.Collections.Generic.LinkedList`1",
            "System.Collections.Concurrent.ConcurrentDictionary`2",
        "System.Collections.Concurrent.ConcurrentQueue`1", "System.Collections.Concurrent.ConcurrentStack`1",
    ]);

    public static bool IsSerializerData(INamedTypeSymbol type)
        => SerializerData.Contains(MetadataName(type.OriginalDefinition));

    private static bool TakesPath(ISymbol member)
        => member is IMethodSymbol { Parameters: [{ Type.SpecialType: SpecialType.System_String }, ..] };
}
