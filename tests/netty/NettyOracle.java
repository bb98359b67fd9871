// Netty's own frame decoders as an oracle for tests/test_netty.py: each line of standard input
// is one case, "<decoder and its options> | <stream in hex> | <cut points>"; each line of
// output is what Netty made of it, in order: "F:<hex>" a frame, "L:<n>" a TooLongFrameException
// (n: the length its message gives, or -1), "C" a CorruptedFrameException, "X:<class>" anything
// else. Every chunk goes through an EmbeddedChannel as its own read; after an exception, empty
// reads are sent until nothing more comes, so decoding goes on over what was already received
// (Netty otherwise waits for the next read). The end of stream is not sent: Netty drops an
// incomplete frame silently there, where framekit reports it (a difference by design).
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DelimiterBasedFrameDecoder;
import io.netty.handler.codec.FixedLengthFrameDecoder;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.protobuf.ProtobufVarint32FrameDecoder;
import io.netty.util.ReferenceCountUtil;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class NettyOracle {

    static final class Recorder extends ChannelInboundHandlerAdapter {
        final List<String> events = new ArrayList<>();

        @Override public void channelRead(ChannelHandlerContext ctx, Object msg) {
            events.add("F:" + ByteBufUtil.hexDump((ByteBuf) msg));
            ReferenceCountUtil.release(msg);
        }

        @Override public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable e = cause;
            if (e instanceof TooLongFrameException) {
                String message = String.valueOf(e.getMessage());
                // "... exceeds 10: 12 - discarded", "frame length (12) exceeds ...", "over 12"
                Matcher m = Pattern.compile("exceeds \\d+: (\\d+)|frame length \\((?:over )?(\\d+)\\)|"
                        + "frame length exceeds \\d+: (\\d+)").matcher(message);
                String n = "-1";
                if (m.find()) {
                    for (int g = 1; g <= m.groupCount(); g++) if (m.group(g) != null) n = m.group(g);
                }
                events.add("L:" + n);
            } else if (e instanceof CorruptedFrameException) {
                events.add("C");
            } else {
                events.add("X:" + e.getClass().getSimpleName() + ":" + e.getMessage());
            }
        }
    }

    static ChannelHandler decoder(String[] a) {
        switch (a[0]) {
            case "length":
                return new LengthFieldBasedFrameDecoder(
                    a[1].equals("big") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN,
                    Integer.parseInt(a[2]), Integer.parseInt(a[3]), Integer.parseInt(a[4]),
                    Integer.parseInt(a[5]), Integer.parseInt(a[6]), a[7].equals("1"));
            case "line":
                return new LineBasedFrameDecoder(
                    Integer.parseInt(a[1]), a[2].equals("1"), a[3].equals("1"));
            case "delimiter":
                return new DelimiterBasedFrameDecoder(
                    Integer.parseInt(a[1]), a[2].equals("1"), a[3].equals("1"),
                    Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(a[4])));
            case "fixed":
                return new FixedLengthFrameDecoder(Integer.parseInt(a[1]));
            case "varint":
                return new ProtobufVarint32FrameDecoder();
            default:
                throw new IllegalArgumentException(a[0]);
        }
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "US-ASCII"));
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, "US-ASCII"));
        String line;
        while ((line = in.readLine()) != null) {
            String[] parts = line.split("\\|", -1);
            Recorder recorder = new Recorder();
            EmbeddedChannel ch = new EmbeddedChannel(decoder(parts[0].trim().split(" ")), recorder);
            byte[] stream = ByteBufUtil.decodeHexDump(parts[1].trim());
            List<Integer> cuts = new ArrayList<>();
            cuts.add(0);
            for (String c : parts[2].trim().split(",")) if (!c.isEmpty()) cuts.add(Integer.parseInt(c));
            cuts.add(stream.length);
            for (int i = 0; i + 1 < cuts.size(); i++) {
                int from = cuts.get(i), to = cuts.get(i + 1);
                if (to <= from) continue;
                int before = recorder.events.size();
                ch.writeInbound(Unpooled.copiedBuffer(stream, from, to - from));
                boolean failed = recorder.events.size() > before && !recorder.events
                    .get(recorder.events.size() - 1).startsWith("F:");
                int guard = 0;
                while (failed && guard++ < 1000) {
                    before = recorder.events.size();
                    ch.writeInbound(Unpooled.EMPTY_BUFFER);
                    failed = recorder.events.size() > before;
                }
            }
            ch.releaseInbound();
            out.write(String.join(" ", recorder.events));
            out.write("\n");
        }
        out.flush();
    }
}
