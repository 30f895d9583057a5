#!/usr/bin/perl
# An SMSC on Perl's Net::SMPP, for interop tests. Commands are JSON lines on stdin, answers
# JSON lines on stdout, as in perl-esme.pl; besides answers it prints events:
#   {"event":"connected","conn":N}  {"event":"closed","conn":N}
#   {"event":"pdu","conn":N,"pdu":{…}}   every PDU received, requests and responses alike
#
#   listen       {accounts: [{system_id, password}], system_id, id_format: decimal|hex,
#                 first_id, auto_receipt}          → {port}
#   deliver      {conn?, source_addr, destination_addr, data_coding, text | short_message_hex,
#                 udh_hex, esm_class, tlvs}         → {conn, seq}   (MO, or anything)
#   receipt      {message_id, stat, err, conn?, receipt_tlvs: nul|bare|none} → {conn, seq, text}
#   enquire_link {conn?} → {conn, seq};  unbind {conn?} → {conn, seq};  close {conn};  quit
#
# Binds are checked against `accounts` (none: anyone binds): an unknown system_id gets
# ESME_RINVSYSID, a wrong password ESME_RINVPASWD. submit_sm gets the next message id;
# query_sm reports ENROUTE until a receipt went out, then the receipt's state.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use IO::Select;
use Net::SMPP;
use PerlPeer;
use POSIX qw(strftime);

$SIG{PIPE} = 'IGNORE';

my %config = (accounts => [], system_id => 'perl-smsc', id_format => 'decimal', first_id => 1);
my $listener;
my %conns;         # conn number => {smpp, bind_type, system_id}
my $next_conn = 1;
my %by_socket;     # fileno => conn number
my $next_id;
my %messages;      # message id => {conn, source_addr, destination_addr, text, submitted, state, done}

my %state_of_stat = (ENROUTE => 1, DELIVRD => 2, EXPIRED => 3, DELETED => 4, UNDELIV => 5,
    ACCEPTD => 6, UNKNOWN => 7, REJECTD => 8);

sub message_id {
    my $n = $next_id++;
    return $config{id_format} eq 'hex' ? sprintf('%X', $n) : "$n";
}

sub close_conn {
    my ($n) = @_;
    my $conn = delete $conns{$n} or return;
    delete $by_socket{ fileno $conn->{smpp} };
    close $conn->{smpp};
    PerlPeer::emit(event => 'closed', conn => $n);
}

# The connection a command names, or the last one bound to receive.
sub target {
    my ($c) = @_;
    if (defined $c->{conn}) {
        return ($c->{conn}, $conns{ $c->{conn} }) if $conns{ $c->{conn} };
        die "no connection $c->{conn}\n";
    }
    for my $n (sort { $b <=> $a } keys %conns) {
        my $type = $conns{$n}{bind_type} // '';
        return ($n, $conns{$n}) if $type eq 'transceiver' || $type eq 'receiver';
    }
    die "no receiver bound\n";
}

sub on_bind {
    my ($n, $conn, $pdu, $type) = @_;
    my $status = 0;
    if (@{ $config{accounts} }) {
        my ($account) = grep { $_->{system_id} eq $pdu->{system_id} } @{ $config{accounts} };
        $status = !$account ? 0x0F : $account->{password} ne $pdu->{password} ? 0x0E : 0;
    }
    my $method = "bind_${type}_resp";
    $conn->{smpp}->$method(seq => $pdu->{seq}, status => $status, system_id => $config{system_id},
        sc_interface_version => pack('C', 0x34));
    @$conn{qw(bind_type system_id)} = ($type, $pdu->{system_id}) if $status == 0;
}

sub on_submit {
    my ($n, $conn, $pdu) = @_;
    my $id = message_id();
    my $json = PerlPeer::pdu_json($pdu);
    $messages{$id} = { conn => $n, source_addr => $pdu->{source_addr},
        destination_addr => $pdu->{destination_addr}, text => $json->{text} // '',
        submitted => time, state => 1 };
    $conn->{smpp}->submit_sm_resp(seq => $pdu->{seq}, message_id => $id);
    my $wanted = $pdu->{registered_delivery} & 0x03;
    send_receipt({ message_id => $id, conn => $n }) if $config{auto_receipt} && ($wanted == 1 || $wanted == 3);
}

sub on_query {
    my ($n, $conn, $pdu) = @_;
    my $message = $messages{ $pdu->{message_id} };
    if (!$message) {
        $conn->{smpp}->query_sm_resp(seq => $pdu->{seq}, status => 0x67, message_id => $pdu->{message_id},
            message_state => 0);
        return;
    }
    my $final = $message->{done} ? strftime('%y%m%d%H%M%S', gmtime $message->{done}) . '000+' : '';
    $conn->{smpp}->query_sm_resp(seq => $pdu->{seq}, message_id => $pdu->{message_id},
        final_date => $final, message_state => $message->{state}, error_code => 0);
}

# A delivery receipt: the Appendix B text, and (unless receipt_tlvs is none) the
# receipted_message_id and message_state TLVs. Net::SMPP writes TLV values as given, so the
# C-octet string needs its NUL put on by hand; receipt_tlvs "bare" leaves it off, as a
# Net::SMPP user who did not know would.
sub send_receipt {
    my ($c) = @_;
    my $id = $c->{message_id};
    my $message = $messages{$id} or die "no message $id\n";
    my ($n, $conn) = target({ conn => $c->{conn} // $message->{conn} });
    my $stat = $c->{stat} // 'DELIVRD';
    my $state = $state_of_stat{$stat} // 7;
    $message->{done} = time;
    $message->{state} = $state;
    (my $excerpt = substr($message->{text}, 0, 20)) =~ s/[^\x20-\x7e]/?/g;
    my $date = sub { strftime('%y%m%d%H%M', gmtime $_[0]) };
    my $text = sprintf('id:%s sub:001 dlvrd:%03d submit date:%s done date:%s stat:%s err:%s text:%s',
        $id, $state == 2 ? 1 : 0, $date->($message->{submitted}), $date->($message->{done}), $stat,
        $c->{err} // '000', $excerpt);
    my $tlvs = $c->{receipt_tlvs} // 'nul';
    my @tlvs = $tlvs eq 'none' ? ()
        : (receipted_message_id => $tlvs eq 'bare' ? $id : "$id\0", message_state => pack('C', $state));
    my $seq = $conn->{smpp}->deliver_sm(source_addr_ton => 1, source_addr_npi => 1,
        source_addr => $message->{destination_addr}, dest_addr_ton => 1, dest_addr_npi => 1,
        destination_addr => $message->{source_addr}, esm_class => 0x04, data_coding => 0,
        short_message => $text, @tlvs);
    return (conn => $n, seq => $seq, text => $text);
}

# Reads one PDU from a connection and answers it.
sub on_readable {
    my ($n) = @_;
    my $conn = $conns{$n};
    my $pdu = $conn->{smpp}->read_pdu();
    if (!$pdu) {
        close_conn($n);
        return;
    }
    PerlPeer::emit(event => 'pdu', conn => $n, pdu => PerlPeer::pdu_json($pdu));
    return if $pdu->{cmd} & 0x80000000;
    my $name = PerlPeer::command_name($pdu->{cmd});
    my $smpp = $conn->{smpp};
    if ($name =~ /^bind_(transceiver|transmitter|receiver)$/) {
        on_bind($n, $conn, $pdu, $1);
    } elsif ($name eq 'submit_sm') {
        on_submit($n, $conn, $pdu);
    } elsif ($name eq 'query_sm') {
        on_query($n, $conn, $pdu);
    } elsif ($name eq 'enquire_link') {
        $smpp->enquire_link_resp(seq => $pdu->{seq});
    } elsif ($name eq 'unbind') {
        $smpp->unbind_resp(seq => $pdu->{seq});
        close_conn($n);
    } else {
        $smpp->generic_nack(seq => $pdu->{seq}, status => 0x03);
    }
}

my %handlers = (
    listen => sub {
        my ($c) = @_;
        die "already listening\n" if $listener;
        for my $key (qw(accounts system_id id_format first_id auto_receipt)) {
            $config{$key} = $c->{$key} if defined $c->{$key};
        }
        $next_id = $config{first_id};
        $listener = Net::SMPP->new_listen('127.0.0.1', port => $c->{port} // 0, async => 1)
            or die "cannot listen: $!\n";
        return port => $listener->sockport;
    },
    deliver => sub {
        my ($c) = @_;
        my ($n, $conn) = target($c);
        my $seq = $conn->{smpp}->deliver_sm(PerlPeer::sm_args($c));
        return conn => $n, seq => $seq;
    },
    receipt => sub { send_receipt($_[0]) },
    enquire_link => sub {
        my ($n, $conn) = target($_[0]);
        return conn => $n, seq => $conn->{smpp}->enquire_link();
    },
    unbind => sub {
        my ($n, $conn) = target($_[0]);
        return conn => $n, seq => $conn->{smpp}->unbind();
    },
    close => sub {
        close_conn($_[0]{conn});
        return ();
    },
    quit => sub {
        close_conn($_) for keys %conns;
        close $listener if $listener;
        PerlPeer::reply($_[0]{id});
        exit 0;
    },
);

while (1) {
    my $select = IO::Select->new(\*STDIN);
    $select->add($listener) if $listener;
    $select->add($_->{smpp}) for values %conns;
    for my $ready ($select->can_read()) {
        my $fd = fileno $ready;
        if ($fd == fileno STDIN) {
            my $commands = PerlPeer::read_commands() // exit 0;
            PerlPeer::dispatch($_, \%handlers) for @$commands;
        } elsif ($listener && $fd == fileno $listener) {
            my $smpp = $listener->accept() or next;
            my $n = $next_conn++;
            $conns{$n} = { smpp => $smpp };
            $by_socket{ fileno $smpp } = $n;
            PerlPeer::emit(event => 'connected', conn => $n);
        } elsif (defined $by_socket{$fd}) {
            on_readable($by_socket{$fd});
        }
    }
}
