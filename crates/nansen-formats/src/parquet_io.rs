//! Parquet in and out, through the parquet crate's record reader and column writers.

use crate::{ImportError, Problem};
use nansen_model::Cube;
use parquet::basic::{Compression, ConvertedType, Repetition, Type as Physical};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::Field;
use parquet::schema::types::Type;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

fn refuse(e: impl std::fmt::Display) -> ImportError {
    let reason = format!("not a readable Parquet file ({e})");
    ImportError::refused(
        format!("the file is refused: {reason}"),
        vec![Problem::new(0, "", "", reason)],
    )
}

fn cell(f: &Field) -> String {
    match f {
        Field::Null => String::new(),
        Field::Str(s) => s.clone(),
        Field::Bool(b) => b.to_string(),
        Field::Byte(v) => v.to_string(),
        Field::Short(v) => v.to_string(),
        Field::Int(v) => v.to_string(),
        Field::Long(v) => v.to_string(),
        Field::UByte(v) => v.to_string(),
        Field::UShort(v) => v.to_string(),
        Field::UInt(v) => v.to_string(),
        Field::ULong(v) => v.to_string(),
        Field::Float(v) => v.to_string(),
        Field::Double(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", *v as i64),
        Field::Double(v) => v.to_string(),
        Field::Date(days) => crate::rows::civil_date(*days as i64),
        Field::TimestampMillis(ms) => crate::rows::civil_date(ms.div_euclid(86_400_000)),
        Field::TimestampMicros(us) => crate::rows::civil_date(us.div_euclid(86_400_000_000)),
        other => other.to_string(),
    }
}

/// The column names, then each row as text cells, streamed row group by row group.
pub fn each_row(
    path: &Path,
    f: &mut dyn FnMut(Vec<String>) -> Result<bool, ImportError>,
) -> Result<(), ImportError> {
    let reader = SerializedFileReader::new(std::fs::File::open(path)?).map_err(refuse)?;
    let header: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    if !f(header)? {
        return Ok(());
    }
    for row in reader.get_row_iter(None).map_err(refuse)? {
        let row = row.map_err(refuse)?;
        let cells = row
            .get_column_iter()
            .map(|(_, field)| cell(field))
            .collect();
        if !f(cells)? {
            break;
        }
    }
    Ok(())
}

fn text_column(name: &str) -> Result<Arc<Type>, parquet::errors::ParquetError> {
    Ok(Arc::new(
        Type::primitive_type_builder(name, Physical::BYTE_ARRAY)
            .with_repetition(Repetition::REQUIRED)
            .with_converted_type(ConvertedType::UTF8)
            .build()?,
    ))
}

/// Observations in long form: indicator, period, the other dimensions, value, flags.
pub fn write(
    cube: &Cube,
    columns: &[usize],
    out: &mut dyn Write,
) -> Result<(), parquet::errors::ParquetError> {
    let mut fields: Vec<Arc<Type>> = columns
        .iter()
        .map(|&i| text_column(&cube.dims[i]))
        .collect::<Result<_, _>>()?;
    fields.push(Arc::new(
        Type::primitive_type_builder("value", Physical::DOUBLE)
            .with_repetition(Repetition::OPTIONAL)
            .build()?,
    ));
    fields.push(text_column("flags")?);
    let schema = Arc::new(
        Type::group_type_builder("observations")
            .with_fields(fields)
            .build()?,
    );
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let mut buf = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut buf, schema, props)?;
    const GROUP: usize = 1 << 20;
    let mut start = 0;
    while start < cube.len().max(1) {
        let end = (start + GROUP).min(cube.len());
        let mut rg = writer.next_row_group()?;
        for &i in columns {
            let col = &cube.columns[i];
            let values: Vec<ByteArray> = col.codes[start..end]
                .iter()
                .map(|&c| ByteArray::from(col.dict[c as usize].as_str()))
                .collect();
            let mut w = rg
                .next_column()?
                .ok_or_else(|| parquet::errors::ParquetError::General("missing column".into()))?;
            w.typed::<ByteArrayType>()
                .write_batch(&values, None, None)?;
            w.close()?;
        }
        let present: Vec<f64> = cube.values[start..end]
            .iter()
            .copied()
            .filter(|v| !v.is_nan())
            .collect();
        let levels: Vec<i16> = cube.values[start..end]
            .iter()
            .map(|v| i16::from(!v.is_nan()))
            .collect();
        let mut w = rg
            .next_column()?
            .ok_or_else(|| parquet::errors::ParquetError::General("missing column".into()))?;
        w.typed::<DoubleType>()
            .write_batch(&present, Some(&levels), None)?;
        w.close()?;
        let flags: Vec<ByteArray> = cube.flags.codes[start..end]
            .iter()
            .map(|&c| ByteArray::from(cube.flags.dict[c as usize].as_str()))
            .collect();
        let mut w = rg
            .next_column()?
            .ok_or_else(|| parquet::errors::ParquetError::General("missing column".into()))?;
        w.typed::<ByteArrayType>().write_batch(&flags, None, None)?;
        w.close()?;
        rg.close()?;
        start = end.max(start + 1);
    }
    writer.close()?;
    out.write_all(&buf)?;
    Ok(())
}
